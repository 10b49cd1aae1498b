"""Typed results that carry their provenance from the raw file to the reply."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Where a passage stands in a raw corpus file: [start, end) character offsets."""

    source: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    issuer: str
    date: str
    kind: str  # policy | report | news
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    """One retrievable unit: a numbered clause, an item, or a paragraph."""

    id: str
    doc_id: str
    document: str
    kind: str
    section: str
    number: str  # "（十一）", "——坚持量质并重", or "" for a plain paragraph
    text: str  # the corpus text with line breaks and OCR spacing removed
    span: Span
    alternates: tuple[Span, ...] = ()

    @property
    def source(self) -> str:
        return self.span.source


@dataclass(frozen=True)
class Citation:
    clause_id: str
    doc_id: str
    document: str
    section: str
    number: str
    text: str
    source: str
    start: int
    end: int
    score: float
    sentence: str = ""  # the sentence inside text that answers, for highlighting
    alternates: tuple[Span, ...] = ()  # the same clause in other printings of the document

    def to_json(self) -> dict:
        return {
            "document": self.document,
            "section": self.section,
            "clause": self.number,
            "text": self.text,
            "source": self.source,
            "score": round(self.score, 3),
            "clause_id": self.clause_id,
            "doc_id": self.doc_id,
            "offsets": [self.start, self.end],
            "sentence": self.sentence,
            "alternates": [{"source": a.source, "offsets": [a.start, a.end]} for a in self.alternates],
        }


@dataclass(frozen=True)
class Answer:
    answered: bool
    text: str
    kind: str  # answer kind: quantity, time, who, measures, definition, yesno, general, refusal, help
    citations: tuple[Citation, ...] = ()
    resolved_question: str = ""
    conversation_id: str = ""
    turn: int = 0
    extra: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        return {
            "answered": self.answered,
            "answer": self.text,
            "kind": self.kind,
            "citations": [c.to_json() for c in self.citations],
            "conversation_id": self.conversation_id,
            "turn": self.turn,
            "resolved_question": self.resolved_question,
        }
