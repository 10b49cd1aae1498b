"""The pipeline: question -> Query (query.py) -> candidates and answerability (rank.py) -> fact and
template (reader.py) -> Answer.

`QAEngine.answer(question, previous)` is pure: the same question after the same previous turn always
gets the same answer. `QAEngine.ask` is the thin layer the adapters call: it reads the previous turn
from the conversation store and records the new one.
"""
from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass
from pathlib import Path

from . import cues
from . import reader as compose
from .conversation import ConversationStore, MemoryStore, Turn, resolve_followup
from .generations import open_corpus
from .ingest import fold
from .models import Answer, Citation, Clause, Document
from .numbers import arabic
from .query import Analyzer, Lexicon, Query, subject_span
from .rank import PLAN_KINDS, Answerability, Candidate, Forms, Ranker, Reading, doc_scopes, is_target
from .templates import Templates
from .tokenize import Tokenizer, Vocabulary, normalize
from .weights import W

YEAR_RE = re.compile(r"(?:19|20)\d{2}\s*年")
OUTLINE_RE = re.compile(r"(包括|包含|分为|有)(哪些|哪几个|哪几项|哪几类|几个|几项|几类)(.{1,6}?)[？?]?$")
# A paragraph's first sentence this short ("扎实做好十件民生实事。") is its title: what it announces follows.
TITLE_SENTENCE = 16
NOT_FOUND = "现有政策文件中没有找到能回答这个问题的内容"
SENTENCES_READ = 4  # of a passage's sentences, the best covered that are read span by span
FACT_KINDS = ("quantity", "time", "who")  # kinds whose answer is one fact of a type
DEFINES = r"[”\"’]?[，,]?(?:是指|指的是|是|即|指|包括|，是)"  # what follows a term its definition defines


@dataclass(frozen=True)
class Pick:
    """The best passage and the fact read from it, with the evidence that it answers."""

    cand: Candidate
    fact: compose.Fact
    reading: Reading
    rank: int


class QAEngine:
    """Ingest once, index once, answer many times; thread-safe for reading."""

    def __init__(self, corpus_dir: Path, prompts_dir: Path, store: ConversationStore | None = None,
                 index_dir: Path | None = None, resources: QAEngine | None = None,
                 lexicon: Lexicon | None = None, model: Answerability | None = None):
        self.corpus_dir = corpus_dir
        # a corpus change reuses the running engine's process-wide parts (service/live.py)
        self.tokenizer = resources.tokenizer if resources else Tokenizer(Vocabulary.load(corpus_dir))
        self.templates = resources.templates if resources else Templates.load(prompts_dir)
        # the index generation in index_dir is reused while it is for these raw files and this tokenizer
        self.report, self.index = open_corpus(corpus_dir, index_dir, self.tokenizer, self._indexed_text)
        self.documents: dict[str, Document] = {d.id: d for d in self.report.documents}
        self.clauses: list[Clause] = self.report.clauses
        self.by_id: dict[str, Clause] = {c.id: c for c in self.clauses}
        self.covered = "、".join(self._covered())
        self.refusal_text = self.templates.render("refusal", reason=NOT_FOUND, covered=self.covered)
        self.help_text = self.templates.render("help")
        self.lexicon = lexicon or (resources.lexicon if resources else Lexicon.load())
        aliases = {d.id: d.scope for d in self.report.documents if d.scope}
        titles = {d.id: (d.title, d.short_title, *d.aliases) for d in self.report.documents}
        self.analyzer = Analyzer(self.tokenizer, self.lexicon, self.index, aliases, titles)
        self.ranker = Ranker(self.clauses, self.documents, self.index,
                             doc_scopes(self.documents, self.lexicon.gazetteer, aliases, self.clauses))
        self.model = model or (resources.model if resources else Answerability.load())
        self._sentences = Forms(lambda k: [text for _, text in compose.sentences(self.by_id[k].text)])
        self.store: ConversationStore = store or MemoryStore()

    @staticmethod
    def _indexed_text(clause: Clause) -> str:
        """What BM25 sees of a clause: its section heading and its text."""
        return f"{clause.section}\n{clause.text}"

    # ---- the thin layer the adapters call ------------------------------------------------------
    def ask(self, question: str, conversation_id: str | None = None, channel: str = "api") -> Answer:
        """Answer one question against the conversation's previous turn, and record the turn."""
        t0 = time.perf_counter()
        # a conversation this call opens has no previous turn to read
        previous = self.store.last_turn(conversation_id) if conversation_id else None
        conversation_id = conversation_id or self.store.new_id()
        result = self.answer(question, previous)
        turn = Turn(
            question=question, resolved=result.resolved_question, kind=result.kind, answered=result.answered,
            clause_ids=tuple(c.clause_id for c in result.citations), channel=channel,
            latency_ms=(time.perf_counter() - t0) * 1000,
        )
        number = self.store.add_turn(conversation_id, turn)
        return Answer(
            result.answered, result.text, result.kind, result.citations, result.resolved_question,
            conversation_id, number, result.extra,
        )

    # ---- the pipeline ---------------------------------------------------------------------------
    def answer(self, question: str, previous: Turn | None = None) -> Answer:
        """The answer to a question, read after the previous turn of its conversation (pure)."""
        query, prefer = self.understand(question, previous)
        if query is None:
            return Answer(False, self.help_text, "help", resolved_question=self.tokenizer.simplify(question))
        return self.respond(query, prefer)

    def understand(self, question: str, previous: Turn | None) -> tuple[Query | None, frozenset[str]]:
        """The Query a question asks (resolved against the previous turn) and the documents to prefer."""
        asked = self.tokenizer.simplify(question).strip()[: 2 * compose.MAX_ANSWER]
        if cues.GREETING_RE.match(asked):
            return None, frozenset()
        query = self.analyzer.analyze(asked)
        prefer: frozenset[str] = frozenset()
        if previous is not None and previous.resolved:
            prefer = frozenset(self.by_id[c].doc_id for c in previous.clause_ids if c in self.by_id)
            resolved = resolve_followup(query, previous, self.analyzer)
            if resolved != asked:
                query = self.analyzer.analyze(resolved, inherit_kind=previous.kind)
        return query, prefer

    def respond(self, query: Query, prefer: frozenset[str] = frozenset()) -> Answer:
        parts = self.split_years(query)
        if parts:
            return self.answer_parts(query, parts, prefer)
        outline = self.outline(query)
        if outline:
            return outline
        pick, cands = self.read(query, prefer)
        if pick is None or self.gated(query, pick) or not self.model.answers(pick.reading):
            return self.refuse(query, pick)
        return self.compose(query, pick, cands)

    @staticmethod
    def gated(query: Query, pick: Pick) -> bool:
        """A reading refused whatever the model says: a figure or a date asked, none of the kind found."""
        return query.kind in ("quantity", "time") and not pick.reading.type_ok

    def split_years(self, query: Query) -> list[Query]:
        """'2023年实际到位多少，2024年定的目标是多少？': one question per year, each with the shared subject."""
        scope = query.scope
        if len(scope.years) + len(scope.relative) < 2 or query.kind != "quantity":
            return []
        segs = cues.segments(query.asked)
        dated = [s for s in segs if YEAR_RE.search(s) or cues.RELATIVE_YEAR_RE.search(s)]
        if len(dated) < 2:
            return []
        shared = "".join(s for s in segs if s not in dated).strip("：:，, ")
        if not shared:  # "农村自来水普及率去年达到多少了？今年要到多少？": the first part's subject
            start, end = subject_span(self.analyzer.analyze(dated[0]))
            shared = dated[0][start:end]
        return [self.analyzer.analyze(seg if shared in seg else shared + seg) for seg in dated]

    def answer_parts(self, query: Query, parts: list[Query], prefer: frozenset[str]) -> Answer:
        """Each year's figure, side by side, each cited; a refusal when any part has none."""
        answers = [self.respond(part, prefer) for part in parts]
        if not all(a.answered and a.citations for a in answers):
            return self.refuse(query)
        items = "；".join(
            f"{self.year_label(part, a.citations[0].doc_id)}：{a.extra['facts'][0]}"
            f"（《{a.citations[0].document}》“{a.citations[0].section}”）"
            for part, a in zip(parts, answers, strict=True)
        )
        text = compose.fit(self.templates, "parts", items, slot="items")
        cites = tuple(dict.fromkeys(a.citations[0] for a in answers))
        facts = [a.extra["facts"][0] for a in answers]
        return Answer(True, text, query.kind, cites, resolved_question=query.asked, extra={"facts": facts})

    def year_label(self, query: Query, doc_id: str) -> str:
        """'2023年' for a year named, '2023年（去年）' for one read against the document's date."""
        years = self.ranker.years_asked(query, doc_id) or ()
        words = [w for w, _ in query.scope.relative]
        return "、".join(f"{y}年（{w}）" if w else f"{y}年"
                         for y, w in zip(years, [""] * len(query.scope.years) + words, strict=False))

    def read(self, query: Query, prefer: frozenset[str] = frozenset()) -> tuple[Pick | None, list[Candidate]]:
        """The best (passage, fact) reading of a question and the candidates it was chosen from."""
        if not query.has_subject:
            return None, []
        cands = self.ranker.candidates(query, prefer_docs=prefer)
        if not cands:
            return None, []
        if query.kind == "definition":
            # the passage that defines the subject ("本法所称粮食，是指…") first, wherever BM25 put it
            start, end = subject_span(query)
            subject = fold(query.asked[start:end]).lower()
            if subject:
                defines = re.compile(re.escape(subject) + DEFINES)
                cands = sorted(cands, key=lambda c: not defines.search(self.ranker.text_of(c.clause)))
        if query.kind == "quantity":
            # a figure is asked: the passages that hold one first (the rest may only talk about the subject)
            cands = sorted(cands, key=lambda c: not (c.coverage >= 0.5 and compose.NUMBER_RE.search(c.clause.text)))
        # a typed question reads further down: the type check tells the passage that states it
        return self.pick(query, cands[: 3 if query.kind not in FACT_KINDS + ("definition",) else 6]), cands

    def pick(self, query: Query, cands: list[Candidate]) -> Pick:
        """The best (passage, fact) pair among the top passages."""
        best: tuple[float, Pick] | None = None
        chars = set(query.text) - set(" ，,。？?！!、的了是")
        need = (lambda t: compose.states_measure(t, query.measure)) if query.measure else None
        for rank, cand in enumerate(cands):
            around = self.ranker.around(cand.clause)
            sents = self._sentences[cand.clause.id]
            titled = len(sents) > 1 and (cand.clause.number.startswith("（") or len(sents[0]) <= TITLE_SENTENCE)
            # a paragraph's title sentence governs every sentence after it
            title = fold(sents[0]).lower() if titled else ""
            local = query.scope.national and not self.ranker.scopes[cand.clause.doc_id].national
            # only the sentences that cover the most are read span by span (a report paragraph holds dozens)
            reads = self._sentences_to_read(query, sents, title, around)
            for k, sentence in enumerate(sents):
                if k not in reads or local and not cues.NATIONAL_RE.search(sentence):
                    continue  # a local document answers for the country only where it names it
                following = "".join(sents[k + 1 :])
                # the title itself answers with the measures it announces
                announces = k == 0 and titled and query.kind not in ("quantity", "time")
                lead = title if k or announces else ""

                def cover(text: str, lead: str = lead, around: str = around) -> float:
                    return self.ranker.coverage(query, lead + fold(text).lower(), around)[0]

                if announces:
                    fact = compose.extract_fact("".join(sents[1:3]), query.kind, cover, need=need)
                else:
                    fact = compose.extract_fact(sentence, query.kind, cover, following, need=need)
                s_cov = cover(fact.text)
                value = 0.45 * cand.score + 0.55 * s_cov - 0.01 * rank + W.characters * _char_share(chars, fact.text)
                typed = self.type_ok(query, fact.text, cand.clause)
                value += 0.3 * typed if query.kind in ("quantity", "time", "who", "definition") else 0.0
                if query.kind == "quantity" and cand.clause.kind not in PLAN_KINDS:
                    # a report's plan answers a target question, its review the others
                    planned = is_target(cand.clause, fact.text)
                    value += 0.03 if query.target and planned else -0.05 if planned and not query.target else 0.0
                if best is None or value > best[0] + 1e-9:
                    reading = Reading(coverage=cand.coverage, sentence_coverage=s_cov, missing=cand.missing,
                                      type_ok=typed, open_kind=float(query.kind not in FACT_KINDS))
                    best = (value, Pick(cand, compose.Fact(fact.text, fact.sentence, s_cov), reading, rank))
        if best is None:  # no sentence in scope: the best passage's first, which the model will refuse
            cand = cands[0]
            fact = compose.Fact("", "", 0.0)
            return Pick(cand, fact, Reading(cand.coverage, 0.0, cand.missing, 0.0, 0.0), 0)
        return best[1]

    def _sentences_to_read(self, query: Query, sents: list[str], title: str, around: str) -> set[int]:
        """The indexes of the few sentences worth reading span by span: the title and the best covered."""
        if len(sents) <= SENTENCES_READ:
            return set(range(len(sents)))
        covers = [self.ranker.coverage(query, (title if k else "") + fold(s).lower(), around)[0]
                  + (0.3 if query.kind == "quantity" and compose.NUMBER_RE.search(s) else 0.0)
                  for k, s in enumerate(sents)]
        ranked = sorted(range(len(sents)), key=lambda k: -covers[k])
        return {0, *ranked[:SENTENCES_READ]}

    def type_ok(self, query: Query, fact: str, clause: Clause) -> float:
        """1 when the fact is of the type asked (a figure of the measure, a time, a body), else 0."""
        if query.kind == "quantity":
            if query.target and not query.achieved and not is_target(clause, fact):
                return 0.0  # a target asked, an achieved figure found
            asked = set(_figures(query.asked))
            parts = compose.pieces(fact, split_lists=False)
            covers = [self.ranker.coverage(query, fold(p).lower())[0] for p in parts]
            best = max(covers, default=0.0)
            for piece, cov in zip(parts, covers, strict=True):
                # the figure stands with its subject, and is not one the question itself gives
                if compose.states_measure(piece, query.measure) and set(_figures(piece)) - asked \
                        and cov > 0 and cov >= 0.5 * best:
                    return 1.0
            return 0.0
        if query.kind == "time":
            return 1.0 if compose.TIME_RE.search(fact) else 0.0
        if query.kind == "who":
            return 1.0 if compose.responsible_body(fact) else 0.5
        if query.kind == "definition":
            # a definition names what it defines (量子计算机, not 量子 alone), best as "X是指…"
            start, end = subject_span(query)
            subject = fold(query.asked[start:end]).lower()
            if not subject:
                return 1.0
            if subject not in self.ranker.text_of(clause):
                return 0.0
            return 1.0 if re.search(re.escape(subject) + DEFINES, fold(fact).lower()) else 0.5
        return 1.0

    # ---- composing ----------------------------------------------------------------------------
    def compose(self, query: Query, pick: Pick, cands: list[Candidate]) -> Answer:
        best, fact = pick.cand, pick.fact
        text = self.render(query.kind, best.clause, fact.text, query.asked, self.year_note(query, best.clause))
        citations = [self.cite(best, fact.sentence)]
        conflict = self.conflicting(query, cands, pick)
        if conflict:
            items = "；".join(
                f"《{p.cand.clause.document}》“{self.section_label(p.cand.clause)}”：{p.fact.text}"
                for p in (pick, conflict)
            )
            text = compose.fit(self.templates, "conflict", items, slot="items")
            citations.append(self.cite(conflict.cand, conflict.fact.sentence))
        repealed = [self.documents[c.doc_id] for c in citations if self.documents[c.doc_id].repealed]
        if repealed:  # a repealed document still says what it said; the answer must not pass it off as in force
            names = "、".join(dict.fromkeys(f"《{d.short_title or d.title}》" for d in repealed))
            note = f"（注意：{names}已{repealed[0].status}）"
            text = compose.shorten(text, compose.MAX_ANSWER - len(note)) + note
        for cand in cands:
            if len(citations) >= 3:
                break
            if cand.coverage >= 0.5 and all(c.clause_id != cand.clause.id for c in citations):
                citations.append(self.cite(cand, ""))
        return Answer(True, text, query.kind, tuple(citations), resolved_question=query.asked,
                      extra={"facts": [p.fact.text for p in (pick, conflict) if p is not None]})

    def year_note(self, query: Query, clause: Clause) -> str:
        """'2023年（文件所说的“去年”）' when the question's year was read against the document's date."""
        if not query.scope.relative:
            return ""
        years = self.ranker.years_asked(query, clause.doc_id) or ()
        words = "、".join(f"“{w}”" for w, _ in query.scope.relative)
        resolved = [y for y in years if y not in query.scope.years]
        return f"{'、'.join(resolved)}年（文件所说的{words}）" if resolved else ""

    def conflicting(self, query: Query, cands: list[Candidate], pick: Pick) -> Pick | None:
        """Another document's different figure for the same measure and year, if one scores as well."""
        if query.kind != "quantity":
            return None
        best = pick.cand
        for cand in cands[1:4]:
            if cand.clause.doc_id == best.clause.doc_id or cand.score < W.conflict_ratio * best.score:
                continue
            other = self.pick(query, [cand])
            if not self.model.answers(other.reading) or not other.reading.type_ok:
                continue
            if other.reading.sentence_coverage < pick.reading.sentence_coverage - 0.05:
                continue  # not the same measure: the other figure is about something else
            if _years(other.fact.sentence) != _years(pick.fact.sentence):
                continue  # different years are different facts, not a disagreement
            if _figures(other.fact.text) != _figures(pick.fact.text):
                return other
        return None

    def outline(self, query: Query) -> Answer | None:
        """'提振消费专项行动方案包括哪些行动？': a document's parts, read from its section headings."""
        m = OUTLINE_RE.search(query.asked)
        if not m or query.kind != "measures":
            return None
        head = m.group(3).strip("的 ") or ""
        subject = fold(query.asked[: m.start()])
        for doc in self.documents.values():
            title = fold(doc.title)
            if len(subject) < 4 or not (subject in title or title in subject):
                continue
            sections: list[Clause] = []
            for clause in self.clauses:
                if clause.doc_id == doc.id and clause.section.endswith(head) and all(
                    c.section != clause.section for c in sections
                ):
                    sections.append(clause)
            if len(sections) < 2:
                continue
            items = "；".join(c.section for c in sections)
            text = compose.fit(
                self.templates, "outline", items, slot="items", document=doc.title, count=str(len(sections))
            )
            cites = tuple(
                Citation(c.id, c.doc_id, c.document, c.section, c.number, c.section, c.source,
                         c.span.start, c.span.end, 1.0, c.section)
                for c in sections
            )
            # the passage quoted is the heading itself, which the section field names
            return Answer(True, text, "outline", cites, resolved_question=query.asked)
        return None

    def refuse(self, query: Query, pick: Pick | None = None) -> Answer:
        """The refusal, saying why when it can, with the nearest passages on the subject (whatever their
        place or year) as related."""
        nearest = self.ranker.candidates(query, scoped=False) if query.has_subject else []
        related = tuple(self.cite(c, "") for c in nearest[:2] if c.coverage >= W.related_coverage)
        reason = self.refusal_reason(query, pick, nearest)
        text = compose.fit(self.templates, "refusal", self.covered, slot="covered", reason=reason)
        return Answer(False, text, "refusal", related, resolved_question=query.asked)

    def refusal_reason(self, query: Query, pick: Pick | None, nearest: list[Candidate]) -> str:
        """Why the documents do not answer, as far as the evidence tells: an unnamed place or year, or a
        passage on the subject that gives no figure or date of the kind asked."""
        start, end = subject_span(query)
        subject = query.asked[start:end]
        if subject and nearest and nearest[0].coverage >= 0.8 and not self.ranker.in_scope(query, nearest[0].clause):
            scope = query.scope
            where = "、".join([p.text for p in scope.places] + [a for a, _ in scope.aliases]
                             + (["全国"] if scope.national else []))
            when = "、".join([f"{y}年" for y in scope.years] + [w for w, _ in scope.relative])
            if where or when:
                return f"现有文件没有提到{where}{when}的{subject}"
        if subject and pick is not None and pick.reading.coverage >= 0.8 and not pick.reading.type_ok:
            wanted = {"quantity": "数字", "time": "时间"}.get(query.kind)
            if wanted:
                return f"文件提到了{subject}，但没有给出具体{wanted}"
        return NOT_FOUND

    def _covered(self) -> list[str]:
        """The documents a refusal offers instead: four of them, never a news story."""
        names = [d.short_title or d.title for d in sorted(self.documents.values(), key=lambda d: d.id)
                 if d.kind != "news"]
        return [f"《{n}》" for n in dict.fromkeys(names)][:4]

    # ---- rendering helpers --------------------------------------------------------------------
    def section_label(self, clause: Clause) -> str:
        """Where a clause stands, as a citation names it; a news story is cited by its headline alone (its
        "sections" are column lines the page broke, not headings anyone would cite)."""
        if clause.kind == "news":
            return "正文"
        return clause.section or "正文"

    def render(self, kind: str, clause: Clause, fact: str, question: str = "", note: str = "") -> str:
        values = {"document": clause.document, "section": self.section_label(clause)}
        if note:
            fact = f"{note}，{fact}"
        if kind == "who":
            body = compose.responsible_body(fact)
            if body:
                return compose.fit(self.templates, "who", fact, body=body, **values)
            kind = "general"
        if kind == "yesno":
            return compose.fit(self.templates, "yesno", fact, verdict=compose.verdict(question, fact), **values)
        if kind not in ("quantity", "time", "measures", "definition"):
            kind = "general"
        return compose.fit(self.templates, kind, fact, **values)

    def cite(self, cand: Candidate, sentence: str) -> Citation:
        c = cand.clause
        return Citation(
            c.id, c.doc_id, c.document, self.section_label(c), c.number, c.quote(sentence), c.source,
            c.span.start, c.span.end, round(cand.bm25, 3), sentence.strip(), c.alternates,
        )

    # ---- for adapters -------------------------------------------------------------------------
    def with_store(self, store: ConversationStore) -> QAEngine:
        """The same corpus and index, answering through another conversation store."""
        clone = copy.copy(self)
        clone.store = store
        return clone

    def document_clauses(self, doc_id: str) -> list[Clause]:
        return [c for c in self.clauses if c.doc_id == doc_id]


def _figures(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", arabic(normalize(text)))


def _char_share(chars: set[str], text: str) -> float:
    """Share of the question's characters in a text: a tie-break between sentences equally covered."""
    return len(chars & set(text)) / len(chars) if chars else 0.0


def _years(text: str) -> list[str]:
    return re.findall(r"(?:19|20)\d{2}(?=\s*年)", normalize(text))
