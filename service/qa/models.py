"""Typed results that carry their provenance from the raw file to the reply."""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Where a passage stands in a raw corpus file: [start, end) character offsets."""

    source: str
    start: int
    end: int


@dataclass(frozen=True)
class Heading:
    """One entry of a document's table of contents."""

    level: int  # nesting depth from 1
    label: str  # "第二章 家庭承包"
    anchor: str  # id of the first clause under it ("" when none)


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    issuer: str
    date: str
    kind: str  # law | regulation | policy | plan | report | news
    sources: tuple[str, ...]  # the texts its clauses' offsets refer to (corpus/raw/…)
    short_title: str = ""  # the name people cite: 农村土地承包法
    wenhao: str = ""  # 文号: 国发〔2019〕4号, 国务院令第707号
    effective: str = ""  # date it takes effect (YYYY-MM-DD)
    status: str = ""  # 施行 | 修正 | 废止 | 失效 (repealed and superseded documents are marked in answers)
    url: str = ""  # official source address, when known
    scope: tuple[str, ...] = ()  # place names that mean this document's area (全州 for 黔东南)
    aliases: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # original file names (never shown on pages)
    toc: tuple[Heading, ...] = ()  # headings in reading order, for the table of contents

    @property
    def name(self) -> str:
        """《农村土地承包法》"""
        return f"《{self.short_title or self.title}》"

    @property
    def repealed(self) -> bool:
        return self.status in ("废止", "失效")


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
    path: tuple[str, ...] = ()  # headings above it: ("第四章 …", "第三节 …")
    pieces: tuple[Span, ...] = ()  # verbatim runs when a page break interrupts it (else empty)
    piece_texts: tuple[str, ...] = ()
    line: int = 0  # line of the source text where it starts

    @property
    def source(self) -> str:
        return self.span.source

    @property
    def label(self) -> str:
        """Its place in the document: "第四章 › 第三十二条" (heading numbers, then its own number)."""
        parts = [p.split(" ")[0] if re.match(r"^第\S+[编章节]\s", p) else p for p in self.path]
        return " › ".join([*parts, self.number] if self.number else parts)

    def cite_as(self, doc: Document | None = None) -> str:
        """How people name it: 《农村土地承包法》第二十一条."""
        name = doc.name if doc else f"《{self.document}》"
        return name + (self.number if self.number.startswith("第") else (self.label.split(" › ")[-1] if self.path
                                                                          else self.number))

    def quote(self, sentence: str = "") -> str:
        """The verbatim text to quote: the whole clause, or the piece holding `sentence` when a page broke it."""
        if len(self.piece_texts) < 2:
            return self.text
        key = "".join(sentence.split())
        for text in self.piece_texts:
            if key and key in "".join(text.split()):
                return text
        return max(self.piece_texts, key=len)


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
