"""Conversation turns and follow-up resolution ("那永久基本农田呢？")."""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

from . import cues
from .query import Query, subject_span

FOLLOWUP_LEAD_RE = re.compile(r"^(那么|那(?![是个些种里边样])|还有|另外|而|再问一下|再问)")
FOLLOWUP_TAIL_RE = re.compile(r"(的呢|呢)[？?！!。.]*$")
YEAR_TOKEN_RE = re.compile(r"(?:19|20)\d{2}\s*年?")
# The predicate words just before the question word belong to what is asked ("目标是多少").
CUE_LEAD_RE = re.compile(r"(目标|计划|增长|增速|比例|比重|占比|期限|标准|要求|任务)(是|有|要|为)?$")


@dataclass(frozen=True)
class Turn:
    question: str
    resolved: str
    kind: str
    answered: bool
    clause_ids: tuple[str, ...] = ()
    channel: str = "api"
    latency_ms: float = 0.0
    created: float = field(default_factory=time.time)


class ConversationStore(Protocol):
    def new_id(self) -> str: ...
    def last_turn(self, conversation_id: str) -> Turn | None: ...
    def add_turn(self, conversation_id: str, turn: Turn) -> int: ...


class MemoryStore:
    """Turns kept in this process (bounded); a durable store implements the same three calls."""

    def __init__(self, max_conversations: int = 10_000):
        self._turns: OrderedDict[str, list[Turn]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_conversations

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def last_turn(self, conversation_id: str) -> Turn | None:
        with self._lock:
            turns = self._turns.get(conversation_id)
            return turns[-1] if turns else None

    def add_turn(self, conversation_id: str, turn: Turn) -> int:
        with self._lock:
            turns = self._turns.setdefault(conversation_id, [])
            self._turns.move_to_end(conversation_id)
            turns.append(turn)
            while len(self._turns) > self._max:
                self._turns.popitem(last=False)
            return len(turns)


def subject_words(query: Query) -> list[str]:
    """The words of a question that name what is asked about (not predicates, places or years)."""
    return [t.word for t in query.terms if t.weight > 0 and t.noun and t.word not in cues.PREDICATE_WORDS]


def is_followup(query: Query) -> bool:
    """Elliptical questions: '那…呢', '…呢？', a pronoun for the last subject, or no subject of their own."""
    asked = query.asked
    if FOLLOWUP_LEAD_RE.search(asked) or FOLLOWUP_TAIL_RE.search(asked) or cues.PRONOUN_RE.search(asked):
        return True
    return not subject_words(query) and len(asked) <= 16


def resolve_followup(query: Query, previous: Turn, analyzer) -> str:
    """Rewrite an elliptical question as a full one, from the previous resolved question.

    '那…呢' keeps the previous question's scope and predicate around a new subject (or a new scope:
    '2023年呢？'); a pronoun ('它', '他们') stands for the previous subject and keeps its place; a
    question with no subject of its own ('具体怎么做？') asks about the previous subject."""
    asked = query.asked
    marked = bool(FOLLOWUP_LEAD_RE.search(asked) or FOLLOWUP_TAIL_RE.search(asked))
    if not previous.answered and not (marked or cues.PRONOUN_RE.search(asked)):
        return asked  # after a refusal only an explicit "那…呢" or a pronoun continues
    if not is_followup(query):
        return asked
    prev = analyzer.analyze(previous.resolved)
    core = FOLLOWUP_TAIL_RE.sub("", FOLLOWUP_LEAD_RE.sub("", asked)).strip(" ，,？?")
    pronoun = cues.PRONOUN_RE.match(core)
    start, end = subject_span(prev)
    subject = prev.asked[start:end]
    if pronoun and not marked:
        # the pronoun stands for what the previous question asked about: all of it before its question
        # word ("按时完成高标准农田建设任务的省份"), or its subject's run when that part names nothing
        m = cues.QUESTION_WORDS_RE.search(prev.asked)
        head = prev.asked[: m.start()].rstrip("的是有能要会得到个 ") if m else ""
        about = head if head and subject_words(analyzer.analyze(head)) else subject
        places = "".join(dict.fromkeys([a for a, _ in prev.scope.aliases] + [p.text for p in prev.scope.places]))
        return f"{_scope_text(query) or places}{_without_scope(about, prev)}{core[pronoun.end():]}"
    rest = _without_scope(core, query).strip("的 ")
    if subject_words(query) and start < end:
        # a new subject in the previous question's place: its scope and what it asked stay
        text = prev.asked[:start] + rest + prev.asked[end:]
    elif rest:
        # no subject of its own ("增长了多少？", "具体怎么做？"): about the previous subject, in its scope
        text = _scope_text(prev) + subject + rest
    else:
        text = prev.asked  # a new scope only ("2023年呢？", "全国呢？")
    if query.scope.empty:
        return text
    # a new scope replaces the same kind of scope and keeps the rest ("2024年呢？" keeps 黔东南)
    new, old = query.scope, prev.scope
    kept = old.__class__(
        places=new.places or (() if new.aliases or new.national else old.places),
        aliases=new.aliases or (() if new.places or new.national else old.aliases),
        national=new.national or (old.national and not (new.places or new.aliases)),
        years=new.years or (() if new.relative else old.years),
        relative=new.relative or (() if new.years else old.relative),
    )
    return _scope_text(kept) + _without_scope(text, prev)


def _scope_text(query) -> str:
    s = getattr(query, "scope", query)
    parts = [a for a, _ in s.aliases] + [p.text for p in s.places]
    if s.national:
        parts.append("全国")
    parts += [f"{y}年" for y in s.years] + [w for w, _ in s.relative]
    return "".join(dict.fromkeys(parts))


def _without_scope(text: str, query: Query) -> str:
    s = query.scope
    for word in [a for a, _ in s.aliases] + [p.text for p in s.places] + [w for w, _ in s.relative]:
        text = text.replace(word, "")
    text = cues.NATIONAL_RE.sub("", text) if s.national else text
    return YEAR_TOKEN_RE.sub("", text)


def _cue_tail(prev: str) -> str:
    """What the previous question asked about its subject ("目标是多少？")."""
    m = cues.QUESTION_WORDS_RE.search(prev)
    if not m:
        return "？"
    start = m.start()
    lead = CUE_LEAD_RE.search(prev[:start])
    return prev[lead.start() if lead else start :]
