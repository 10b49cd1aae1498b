"""Conversation turns and follow-up resolution ("那永久基本农田呢？")."""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

from .tokenize import Tokenizer, years

FOLLOWUP_LEAD_RE = re.compile(r"^(那么|那|还有|另外|而|再问一下|再问)")
FOLLOWUP_TAIL_RE = re.compile(r"(的呢|呢)[？?！!。.]*$")
YEAR_TOKEN_RE = re.compile(r"(?:19|20)\d{2}\s*年?")
# Words that say what is asked about a subject, not the subject itself: a follow-up
# that brings a new subject keeps them from the previous question.
PREDICATE_WORDS = {
    "目标", "增长", "计划", "任务", "要求", "标准", "比例", "比重",
    "时间", "期限", "多少", "达到", "提高", "降低", "完成",
}
CUE_TAIL_RE = re.compile(r"(目标)?(是多少|有多少|多少|是什么|有哪些|是谁|怎么办|如何|怎样)[？?]?$")


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


def is_followup(question: str, tokenizer: Tokenizer) -> bool:
    """Elliptical questions: '那…呢', '…呢？', or no subject of their own ('增长了多少？')."""
    if FOLLOWUP_LEAD_RE.search(question) or FOLLOWUP_TAIL_RE.search(question):
        return True
    return not _subject_words(question, tokenizer) and len(question) <= 12


def _subject_words(text: str, tokenizer: Tokenizer) -> list[str]:
    """Content words naming what is asked about (nouns, not predicates, places or years)."""
    return [
        word for word, tag in tokenizer.tagged(text)
        if tag[:1] in ("n", "l") and tag != "ns" or tag == "vn" and len(word) > 2
        if len(word) > 1 and not tokenizer.is_stopword(word) and word not in PREDICATE_WORDS
    ]


def resolve_followup(question: str, previous: Turn, tokenizer: Tokenizer) -> str:
    """Rewrite an elliptical question as a full one, from the previous resolved question."""
    core = FOLLOWUP_TAIL_RE.sub("", FOLLOWUP_LEAD_RE.sub("", question)).strip(" ，,？?")
    prev = previous.resolved
    new_years, new_places = years(core), tokenizer.entities(core)
    places = new_places or tokenizer.entities(prev)
    scope = "".join(places) + "".join(f"{y}年" for y in (new_years or years(prev)))
    rest = _without_scope(core, new_places).strip("的 ")
    if _subject_words(rest, tokenizer):
        # a new subject replaces the old one; place, year and the asked-for predicate stay
        return f"{scope}{rest}{_cue_tail(prev)}"
    # no subject of its own ("增长了多少？", "2024年的呢？"): the previous subject stays
    base = CUE_TAIL_RE.sub("", _without_scope(prev, tokenizer.entities(prev)).rstrip("？? "))
    return f"{scope}{base}{rest}？" if rest else f"{scope}{base}{_cue_tail(prev)}"


def _without_scope(text: str, places: list[str]) -> str:
    for place in places:
        text = text.replace(place, "")
    return YEAR_TOKEN_RE.sub("", text)


def _cue_tail(prev: str) -> str:
    m = CUE_TAIL_RE.search(prev.rstrip())
    return m.group() if m else "？"
