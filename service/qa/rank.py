"""Candidates, evidence and answerability: which passages a question is about, and whether the best
one answers it.

A candidate is a BM25 hit in the question's scope, re-ranked by soft coverage: the idf-weighted share
of the question's subject words the passage contains, each counted by how it was found (the word
itself, a domain equivalent, its parts, the same sound, an abbreviation, a thesaurus synonym,
character pairs). Whether to answer is a calibrated logistic model over scale-free features of the
best reading (service/data/answerability.json, fitted by scripts/fit_answerability.py).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from . import cues
from .ingest import fold
from .models import Clause, Document
from .numbers import arabic
from .query import Query, found, place_names
from .weights import W

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "answerability.json"
PLAN_KINDS = ("policy", "plan", "law", "regulation")  # every figure they state is one they set
YEAR_IN_TEXT_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass
class Candidate:
    clause: Clause
    bm25: float
    coverage: float
    phrase: float  # share of the question's compounds the passage prints
    missing: float  # the heaviest subject word the passage lacks (same unit)
    score: float


@dataclass(frozen=True)
class DocScope:
    """Where and when a document speaks: its place names (empty for the whole country) and its year."""

    names: frozenset[str]
    national: bool
    year: int | None


class Ranker:
    """Scores passages of one corpus against a Query; every per-passage form is prepared once."""

    def __init__(self, clauses: list[Clause], documents: dict[str, Document], index, scopes: dict[str, DocScope]):
        self.clauses = clauses
        self.documents = documents
        self.index = index
        self.scopes = scopes
        # a passage is searched as printed and with its numerals in Arabic (三十年 meets 30年)
        self._arounds: dict[tuple[int, str], tuple[Query, list[float]]] = {}
        self._order = {c.id: k for k, c in enumerate(clauses)}  # ties go by reading order, ids are not positions
        by_id = {c.id: c for c in clauses}
        # the forms a passage is searched in, made the first time a question reaches it (a question reads
        # tens of passages, a start-up with 100k clauses would spend seconds making them all), then kept
        self._text = Forms(lambda k: _with_arabic(fold(by_id[k].text).lower()))
        self._section = Forms(lambda k: fold(by_id[k].section).lower())
        self._title = {d.id: fold(d.title).lower() for d in documents.values()}
        self._years = Forms(lambda k: frozenset(YEAR_IN_TEXT_RE.findall(self._section[k] + self._text[k])))

    # ---- evidence -----------------------------------------------------------------------------
    def coverage(self, query: Query, text: str, around: str = "") -> tuple[float, float, float]:
        """(share of subject weight found, weight found, heaviest weight missing) in a folded text.

        A term found only around the text (its section heading, its document's title) counts half:
        a heading says what a passage is about, not what it states."""
        total = hit = missing = 0.0
        arounds = self._around_credits(query, around) if around else None
        for k, term in enumerate(query.terms):
            if term.weight <= 0:
                continue
            total += term.weight
            credit = found(term, text)
            if arounds is not None and credit < arounds[k]:
                credit = arounds[k]
            hit += term.weight * credit
            lack = term.weight * (1.0 - credit)
            if lack > missing:
                missing = lack
        unit = self.index.weight_unseen
        return (hit / total if total else 0.0), hit / unit, missing / unit

    def _around_credits(self, query: Query, around: str) -> list[float]:
        """Each term's credit in a heading and title, at half weight; remembered for the question being read
        (every window of a passage's sentences shares them)."""
        key = (id(query), around)
        entry = self._arounds.get(key)
        if entry is None or entry[0] is not query:  # an id is only unique while its object lives
            if len(self._arounds) > 256:
                self._arounds.clear()
            entry = self._arounds[key] = (query, [W.around * found(t, around) if t.weight > 0 else 0.0
                                                  for t in query.terms])
        return entry[1]

    def phrase(self, query: Query, clause: Clause) -> float:
        """Share of the question's neighbouring word pairs the passage prints together (健康 + 消费)."""
        pairs = query.phrases
        if not pairs:
            return 1.0
        text = self._text[clause.id]
        return sum(p in text for p in pairs) / len(pairs)

    def text_of(self, clause: Clause) -> str:
        return self._text[clause.id]

    def around(self, clause: Clause) -> str:
        return self._section[clause.id] + self._title[clause.doc_id]

    # ---- scope --------------------------------------------------------------------------------
    def years_asked(self, query: Query, doc_id: str) -> tuple[str, ...] | None:
        """The years the question means in this document (relative ones read against its date); None
        when it names a relative year the document cannot fix."""
        out = list(query.scope.years)
        for _, offset in query.scope.relative:
            year = self.scopes[doc_id].year
            if year is None:
                return None
            out.append(str(year + offset))
        return tuple(dict.fromkeys(out))

    def in_scope(self, query: Query, clause: Clause) -> bool:
        """The passage speaks of the places, the country-wide scope and the years the question names."""
        scope = query.scope
        if scope.empty:
            return True
        if scope.documents and clause.doc_id not in scope.documents:
            return False
        doc_scope = self.scopes[clause.doc_id]
        near = self._section[clause.id] + self._text[clause.id]
        years = self.years_asked(query, clause.doc_id)
        if years is None:
            return False
        mentioned = self._years[clause.id]
        for year in years:
            # a passage that names no year speaks of its document's own year
            if year not in mentioned and (mentioned or str(doc_scope.year) != year):
                return False
        wide = near + self._title[clause.doc_id]
        for place in scope.places:
            names = place_names(place)
            if place.is_country:
                if not any(n in near for n in names):
                    return False
            elif not (names & doc_scope.names) and not any(n in wide for n in names):
                return False
        for alias, doc_id in scope.aliases:
            if clause.doc_id != doc_id and not (self.scopes[doc_id].names & doc_scope.names) \
                    and alias not in near:
                return False
        if scope.national and not doc_scope.national and not cues.NATIONAL_RE.search(near):
            return False  # a local document speaks for its own place unless it names the country
        return True

    # ---- candidates ---------------------------------------------------------------------------
    def candidates(self, query: Query, scoped: bool = True, prefer_docs: frozenset[str] = frozenset()
                   ) -> list[Candidate]:
        """BM25's top passages re-ranked by soft coverage; only those in the question's scope unless scoped=False."""
        hits = self.index.search(list(query.tokens), W.candidates)
        if not hits:
            return []
        top = hits[0][1]
        out = []
        for i, score in hits:
            clause = self.clauses[i]
            if scoped and not self.in_scope(query, clause):
                continue
            cov, _, missing = self.coverage(query, self._text[clause.id], self.around(clause))
            phrase = self.phrase(query, clause)
            value = W.rank_bm25 * score / top + W.rank_coverage * cov + W.phrase * phrase
            if query.kind == "quantity" and re.search(r"\d", clause.text):
                value += W.figure_bonus
            if query.target and is_target(clause, clause.text):
                value += W.target_bonus
            if clause.kind == "news":
                value -= W.news_penalty
            if clause.doc_id in prefer_docs:
                value += W.previous_doc_bonus
            out.append(Candidate(clause, score, cov, missing=missing, phrase=phrase, score=value))
        out.sort(key=lambda c: (-c.score, self._order[c.clause.id]))
        return out


class Forms(dict):
    """A dict that makes a missing value on first use: per-passage forms, computed once, only if needed."""

    def __init__(self, make):
        super().__init__()
        self._make = make

    def __missing__(self, key):
        value = self[key] = self._make(key)
        return value


def is_target(clause: Clause, text: str) -> bool:
    """A figure a plan sets: in a policy's text, a report's plan section, or worded as a target."""
    return clause.kind in PLAN_KINDS or bool(cues.PLAN_SECTION_RE.search(clause.section)) \
        or bool(cues.TARGET_TEXT_RE.search(text))


def _with_arabic(text: str) -> str:
    other = arabic(text)
    return text if other == text else f"{text}\n{other}"


def doc_scopes(documents: dict[str, Document], gazetteer, aliases: dict[str, tuple[str, ...]],
               clauses: list[Clause] = ()) -> dict[str, DocScope]:
    """Each document's place names (from its title, issuer and catalog scope aliases) and year; a news
    story with no place in its headline is about the place its text names most, if any recurs."""
    body: dict[str, list[str]] = {}
    for clause in clauses:
        if clause.kind == "news":
            body.setdefault(clause.doc_id, []).append(clause.text)
    out = {}
    for doc in documents.values():
        names: set[str] = set(aliases.get(doc.id, ()))
        for text in (doc.title, doc.issuer):
            for place in gazetteer.find(text):
                if not place.is_country:
                    names |= place_names(place)
        if not names and doc.id in body:
            counts: dict[str, int] = {}
            for place in gazetteer.find("".join(body[doc.id])):
                if not place.is_country and place.level in ("province", "prefecture"):
                    counts[place.name] = counts.get(place.name, 0) + 1
            for place in gazetteer.find("".join(body[doc.id])):
                if counts.get(place.name, 0) >= 2:
                    names |= place_names(place)
        national = not names
        year = int(doc.date[:4]) if doc.date[:4].isdigit() else None
        out[doc.id] = DocScope(frozenset(names), national, year)
    return out


# ---- answerability ------------------------------------------------------------------------------
FEATURES = ("coverage", "sentence_coverage", "missing", "type_ok", "open_kind")


@dataclass(frozen=True)
class Reading:
    """What the best reading of a question offers as evidence that it answers the question."""

    coverage: float  # share of the question's subject weight the passage holds (heading and title at half)
    sentence_coverage: float  # the same for the answering span, with the paragraph's title
    missing: float  # the heaviest subject word the passage lacks, in units of an unseen word's weight
    type_ok: float  # the span is of the kind asked: a figure of the measure, a time, a body
    open_kind: float  # 1 for questions that ask what is done or said (measures, yes/no, definitions), not a fact

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURES]


class Answerability:
    """A logistic model over a Reading; answers when its probability reaches the fitted threshold."""

    def __init__(self, coef: list[float], intercept: float, threshold: float, meta: dict | None = None):
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold
        self.meta = meta or {}

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Answerability:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path}: features {data.get('features')} != {list(FEATURES)}: refit the model")
        return cls(data["coef"], data["intercept"], data["threshold"], data)

    def probability(self, reading: Reading) -> float:
        z = self.intercept + sum(c * x for c, x in zip(self.coef, reading.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def answers(self, reading: Reading) -> bool:
        return self.probability(reading) >= self.threshold

