"""Corpus files -> documents -> retrievable units with provenance: the ingestion pipeline.

Every file of raw/ is extracted to text (extract.py), then read in one of two layouts:
  - a document (law, regulation, 通知, 意见, report … in any accepted format): head, numbered
    structure and signature read by structure.py, its metadata by metadata.py, a documents.toml
    entry bound by `file = "name.ext"` overriding what the document says;
  - a newspaper page export (below): several articles on a page, a catalog document found by its
    printed title, news articles split off beside it.

Newspaper page exports are messy the way real ones are: lines broken by newspaper columns, OCR
spacing, several articles on one page, the same policy printed more than once. Every
rule here is general (layout, markers, structure); nothing names a file.

Pipeline for one raw file:
  lines (with offsets) -> fragments (split at "（上接第一版）" and datelines)
  -> title blocks matched against the catalog (documents.toml)
  -> structured fragments become the catalog document, the rest news articles
  -> paragraphs (joining column-broken lines) -> units (numbered clauses, items, paragraphs)
Copies of one document found in several files are merged clause by clause: the copy
with the most complete structure is canonical, the others become alternate sources.
"""
from __future__ import annotations

import bisect
import re
import statistics
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .extract import ACCEPTED, ExtractionError, extract, sources
from .metadata import CatalogError, Entry, Meta, apply_entry, doc_id_for, load_catalog, read_meta, short_title
from .models import Clause, Document, Heading, Span
from .structure import (
    HEAD_SECTION,
    SIGN_SECTION,
    ZERO_WIDTH,
    Parsed,
    Unit,
    clean,
    content_key,
    furniture_or_signature,
    load_numbering,
    number_key,
    parse,
)

# The raw file kinds ingest() reads; `policy-qa add` and the upload API accept exactly these.
SUPPORTED_SUFFIXES = ACCEPTED
CN_NUM = "一二三四五六七八九十"
FINAL_PUNCT = "。！？!?；;：:…"
CLOSE_QUOTES = "”’」』）)"

CONTINUED_RE = re.compile(r"^[（(]\s*上\s*接\s*第\s*[一二三四五六七八九十\d]+\s*版\s*[)）]")
DATELINE_RE = re.compile(r"^[（(]?\s*据?\s*新\s*华\s*社[^。，]{0,24}?电\s*[)）]?$")
BYLINE_RE = re.compile(r"^(新华社记者|本报记者|记者)")
DATE_LINE_RE = re.compile(r"^[（(]\d{4}年\d{1,2}月\d{1,2}日[^）)]{0,40}[)）]$")
SECTION_RE = re.compile(rf"^([{CN_NUM}]{{1,3}})、(.+)$")
CLAUSE_RE = re.compile(rf"^[（(]([{CN_NUM}]{{1,4}})[)）]")
DASH_RE = re.compile(r"^——")
LEAD_RE = re.compile(r"^(主要目标|总体目标|工作目标|基本原则|主要任务)")
SENTENCE_END_RE = re.compile(r"[。！？!?]")

# A numbered clause absorbs the paragraphs that follow it up to this many characters;
# past it each paragraph is its own unit (government reports run a page per paragraph).
MAX_MERGED_CLAUSE = 700
MIN_UNIT_CHARS = 4  # "……" and stray page furniture are not passages
# A fragment whose median line is shorter than this was typeset in newspaper columns.
COLUMN_MEDIAN = 50
HEADLINE_MAX = 26
# In column text a heading is clearly shorter than a full line; a full-width line
# without punctuation is a sentence broken by the column, not a heading.
HEADING_WIDTH_SHARE = 0.85


class _FoldTable(dict):
    """str.translate table filled on first sight of a character: its NFKC form, or nothing for space."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        value = "" if ch.isspace() else unicodedata.normalize("NFKC", ch)
        self[code] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Matching form: NFKC per character (full-width digits and brackets) and no whitespace."""
    return text.translate(_FOLD)


@dataclass
class Line:
    text: str  # cleaned
    start: int
    end: int
    raw: str  # as printed, from start to end


@dataclass
class Fragment:
    lines: list[Line]
    title_start: int = -1  # offset of the catalog title printed at its head
    headline: list[Line] = field(default_factory=list)
    tail_headline: list[Line] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)  # catalog ids whose title block stood here


@dataclass
class _PaperUnit:
    section: str
    number: str
    start: int
    end: int
    text: str = ""


@dataclass
class Copy:
    """One printing of a document: its units in reading order, from one raw file."""

    doc_id: str
    source: str
    units: list[_PaperUnit]
    sections: int
    clauses: int
    titled: bool


@dataclass
class Report:
    """What ingestion found, for a person to check the split."""

    documents: list[Document]
    clauses: list[Clause]
    merged: dict[str, int]  # doc id -> units merged into another copy
    news_fragments: dict[str, int]  # source -> news articles split off
    problems: list[Problem] = field(default_factory=list)
    structure: dict[str, dict[str, int]] = field(default_factory=dict)  # doc id -> counts of 章, 节, 条, units
    metadata: dict[str, Meta] = field(default_factory=dict)  # doc id -> what the document said of itself

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass(frozen=True)
class Problem:
    """Something a person must look at: where (file and line) and what."""

    file: str
    line: int
    message: str
    severity: str = "error"  # error | note

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


def _fold_title(text: str) -> str:
    return re.sub(r"[《》“”\"']", "", fold(text))


def read_lines(raw: str) -> list[Line]:
    """Non-blank lines with the offsets of their first and last non-space characters."""
    lines = []
    pos = 0
    for chunk in raw.splitlines(keepends=True):
        body = chunk.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            start = pos + lead
            lines.append(Line(clean(stripped), start, start + len(stripped), stripped))
        pos += len(chunk)
    return lines


def split_fragments(lines: list[Line]) -> list[Fragment]:
    """Cut a page at continuation markers and datelines into article fragments."""
    fragments: list[Fragment] = []
    current: list[Line] = []

    def close() -> None:
        nonlocal current
        if current:
            fragments.append(Fragment(current))
        current = []

    for line in lines:
        m = CONTINUED_RE.match(line.text)
        if m:
            close()
            rest = _strip_prefix(line, m.end())
            if rest:
                current.append(rest)
            continue
        if DATELINE_RE.match(line.text):
            close()
            continue
        current.append(line)
    close()
    return fragments


def _strip_prefix(line: Line, n_clean: int) -> Line | None:
    """The part of a line after its first n cleaned characters, with exact raw offsets."""
    if n_clean >= len(line.text):
        return None
    seen = 0
    for i, ch in enumerate(line.raw):
        if not ch.isspace():
            if seen == n_clean:
                return Line(line.text[n_clean:], line.start + i, line.end, line.raw[i:])
            seen += 1
    return None


def _is_headline(text: str, allow_comma: bool = False) -> bool:
    if not text or len(text) > HEADLINE_MAX or text[-1] in FINAL_PUNCT + "，,、":
        return False
    if CLAUSE_RE.match(text) or SECTION_RE.match(text) or DASH_RE.match(text):
        return False
    inner = "。：:；;！？" if allow_comma else "。，,：:；;！？"
    if any(ch in text for ch in inner):
        return False
    # a heading never breaks inside a quotation; a column line often does
    return text.count("“") == text.count("”") and text.count("（") == text.count("）")


def title_lookup(catalog: list[Entry]) -> dict[str, str]:
    """Folded title or alias -> doc id (the first entry naming it wins), so matching a line costs one lookup."""
    out: dict[str, str] = {}
    for entry in catalog:
        for title in entry.folded_titles:
            out.setdefault(title, entry.id)
    return out


def _match_title(lines: list[Line], i: int, titles: dict[str, str]) -> tuple[str, int] | None:
    """A catalog title printed on lines[i : i+k] (k <= 3); returns (doc id, k)."""
    for k in (1, 2, 3):
        if i + k > len(lines):
            break
        doc_id = titles.get(_fold_title("".join(line.text for line in lines[i : i + k])))
        if doc_id is not None:
            return doc_id, k
    return None


def take_title_blocks(fragment: Fragment, titles: dict[str, str]) -> None:
    """Move catalog title blocks (and their date lines) at either end of a fragment out of its text."""
    lines = fragment.lines
    # at the head, possibly after a headline-only fragment was glued on
    i = 0
    while i < len(lines):
        hit = _match_title(lines, i, titles)
        if not hit:
            break
        fragment.titles.add(hit[0])
        if fragment.title_start < 0:
            fragment.title_start = lines[i].start
        i += hit[1]
        while i < len(lines) and DATE_LINE_RE.match(lines[i].text):
            i += 1
    # then any other head lines that are headline-shaped (subtitle, date, byline)
    if i:
        while i < len(lines) and (DATE_LINE_RE.match(lines[i].text) or _is_byline(lines[i].text)):
            i += 1
    fragment.lines = lines[i:]
    # at the tail (a page that prints the headline below the article)
    lines = fragment.lines
    for k in (3, 2, 1):
        if len(lines) > k:
            hit = _match_title(lines, len(lines) - k, titles)
            if hit and hit[1] == k:
                fragment.titles.add(hit[0])
                fragment.lines = lines[: len(lines) - k]
                break


def _is_byline(text: str) -> bool:
    return bool(BYLINE_RE.match(text)) or (len(text) <= 12 and bool(re.match(r"^(州长|省长|市长|县长|主任)", text)))


def take_headlines(fragment: Fragment) -> None:
    """Split off the headline block of a news fragment (short unpunctuated lines at its head)."""
    lines = fragment.lines
    width = column_width(lines)
    i = 0
    while i < len(lines) and (
        _is_heading_line(lines[i].text, width, allow_comma=True) or _is_byline(lines[i].text)
        or DATE_LINE_RE.match(lines[i].text)
    ):
        i += 1
    fragment.headline.extend(lines[:i])
    fragment.lines = lines[i:]
    if len(fragment.lines) > 1 and _is_heading_line(fragment.lines[-1].text, width):
        fragment.tail_headline = [fragment.lines[-1]]
        fragment.lines = fragment.lines[:-1]


def structure_count(lines: Iterable[Line]) -> tuple[int, int]:
    sections = clauses = 0
    for line in lines:
        if CLAUSE_RE.match(line.text):
            clauses += 1
        elif _section_title(line.text):
            sections += 1
    return sections, clauses


def _section_title(text: str) -> bool:
    m = SECTION_RE.match(text)
    return bool(m) and len(text) <= 40 and "。" not in text


def column_width(lines: list[Line]) -> int:
    """The usual line length of column-set text, or 0 where lines are whole paragraphs."""
    lengths = sorted(len(line.text) for line in lines if len(line.text) > 4)
    if len(lengths) < 5 or statistics.median(lengths) >= COLUMN_MEDIAN:
        return 0
    return lengths[int(len(lengths) * 0.75)]


def _is_heading_line(text: str, width: int, allow_comma: bool = False) -> bool:
    """A headline or subheading: short, unpunctuated, and clearly shorter than a full column line."""
    if not _is_headline(text, allow_comma) or text.count("，") > 1:
        return False
    return not width or len(text) < HEADING_WIDTH_SHARE * width


def _ends_sentence(text: str) -> bool:
    if not text:
        return False
    if text[-1] in FINAL_PUNCT:
        return True
    return text[-1] in CLOSE_QUOTES and len(text) > 1 and text[-2] in FINAL_PUNCT


def paragraphs(lines: list[Line], news: bool) -> list[tuple[str, list[Line]]]:
    """Group lines into (role, lines) paragraphs. Roles: section, clause, dash, para, subhead."""
    width = column_width(lines)
    out: list[tuple[str, list[Line]]] = []
    prev_closed = True
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        role = None
        if not news and _section_title(text):
            role = "section"
            group = [line]
            # a heading wrapped onto a short second line before the next clause
            if (
                i + 1 < len(lines) and not _ends_sentence(text)
                and _is_headline(lines[i + 1].text) and len(lines[i + 1].text) <= 15
                and (i + 2 >= len(lines) or _is_marker(lines[i + 2].text))
            ):
                group.append(lines[i + 1])
                i += 1
            out.append((role, group))
            prev_closed = True
            i += 1
            continue
        if not news and CLAUSE_RE.match(text):
            role = "clause"
        elif not news and DASH_RE.match(text):
            role = "dash"
        elif LEAD_RE.match(text) and prev_closed:
            role = "para"
        elif news and prev_closed and _is_heading_line(text, width) and i + 1 < len(lines):
            role = "subhead"
        elif prev_closed or not out:
            role = "para"
        if role:
            out.append((role, [line]))
        else:
            out[-1][1].append(line)
        closes = _ends_sentence(text) and (not width or len(text) < width)
        prev_closed = closes or role == "subhead"
        i += 1
    return out


def _is_marker(text: str) -> bool:
    return bool(CLAUSE_RE.match(text) or _section_title(text) or DASH_RE.match(text))


def _clause_number(text: str) -> str:
    m = CLAUSE_RE.match(text)
    return f"（{m.group(1)}）" if m else ""


def _dash_label(text: str) -> str:
    head = SENTENCE_END_RE.split(text, maxsplit=1)[0]
    return head[:16]


def build_units(paras: list[tuple[str, list[Line]]], intro: str) -> list[_PaperUnit]:
    """Turn paragraphs into retrievable units under their section headings."""
    units: list[_PaperUnit] = []
    section = intro
    lead_in: list[Line] = []  # a short "……：" paragraph glued to the unit after it
    for role, lines in paras:
        text = "".join(line.text for line in lines)
        if role in ("section", "subhead"):
            section = text
            lead_in = []
            continue
        if role == "para" and text.endswith(("：", ":")) and len(text) <= 20:
            lead_in.extend(lines)
            continue
        start = (lead_in or lines)[0].start
        end = lines[-1].end
        body = "".join(line.text for line in lead_in) + text
        lead_in = []
        if sum(ch.isalnum() for ch in body) < MIN_UNIT_CHARS:
            continue
        if role == "clause":
            units.append(_PaperUnit(section, _clause_number(text), start, end, body))
        elif role == "dash":
            units.append(_PaperUnit(section, _dash_label(text), start, end, body))
        else:
            last = units[-1] if units else None
            if (
                last and last.section == section and last.number.startswith("（")
                and len(last.text) + len(body) <= MAX_MERGED_CLAUSE
            ):
                last.end = end
                last.text += body
            else:
                number = last.number if last and last.section == section and last.number.startswith("（") else ""
                units.append(_PaperUnit(section, number, start, end, body))
    return units


def _bigrams(text: str) -> set[str]:
    t = fold(text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams: 1.0 for the same clause in another printing."""
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


MERGE_SIMILARITY = 0.5  # unnumbered paragraphs this alike are one passage printed twice


def merge_copies(copies: list[Copy]) -> tuple[list[tuple[_PaperUnit, str, list[Span]]], int]:
    """Merge printings of one document: canonical units with their alternate spans."""
    copies = sorted(copies, key=lambda c: (c.sections + c.clauses, c.titled, -len(c.units)), reverse=True)
    canon = copies[0]
    merged: list[tuple[_PaperUnit, str, list[Span]]] = [(u, canon.source, []) for u in canon.units]
    n_merged = 0
    for other in copies[1:]:
        for unit in other.units:
            best, best_sim = None, 0.0
            for k, (cu, _, _) in enumerate(merged):
                same_number = unit.number.startswith("（") and cu.number == unit.number
                if unit.number.startswith("（") and cu.number.startswith("（") and not same_number:
                    continue
                sim = similarity(unit.text, cu.text)
                if same_number:
                    sim += 1.0  # one clause number in one document is one clause
                if sim > best_sim:
                    best, best_sim = k, sim
            if best is not None and best_sim >= MERGE_SIMILARITY:
                merged[best][2].append(Span(other.source, unit.start, unit.end))
                n_merged += 1
            else:
                merged.append((unit, other.source, []))
    return merged, n_merged


RAW_PREFIX = "corpus/raw/"
CHECKED_UNIT = 1500  # ingest --check: a citable unit longer than this is a split that went wrong


def ingest(corpus_dir: Path, write_texts: bool = True) -> Report:
    """Read every source of corpus/raw/ with corpus/documents.toml into documents and clauses."""
    catalog_path = corpus_dir / "documents.toml"
    problems: list[Problem] = []
    entry_problems: list[tuple[int, str]] = []
    try:
        catalog = load_catalog(catalog_path, entry_problems)
    except CatalogError as exc:
        catalog = []
        problems.append(Problem("documents.toml", exc.line, str(exc)))
    problems.extend(Problem("documents.toml", line, message) for line, message in entry_problems)
    bound = {e.file: e for e in catalog if e.file}
    by_title = [e for e in catalog if not e.file]
    paper = _Newspaper(by_title)
    found: list[_Found] = []
    raw_dir = corpus_dir / "raw"
    for path in sources(raw_dir):
        entry = bound.get(path.name)
        try:
            ex = extract(path, write=write_texts)
        except ExtractionError as exc:
            problems.append(Problem(RAW_PREFIX + path.name, 0, str(exc)))
            continue
        source = RAW_PREFIX + ex.text_name
        if entry is None and ex.fmt == "text" and paper.read(ex.text, source, path.stem, problems):
            continue
        parsed = parse(ex.text, markdown=ex.fmt == "markdown", title_hint=ex.hints.get("title", ""))
        meta = apply_entry(read_meta(parsed, ex.hints, ex.text), entry)
        if not meta.title:
            meta.title = path.stem
        doc_id = entry.id if entry else doc_id_for(path.name, meta.title)
        if not parsed.units:
            problems.append(Problem(RAW_PREFIX + path.name, 1, f"no text found in {path.name} ({ex.fmt})"))
            continue
        found.append(_Found(doc_id, path.name, source, entry, parsed, meta, ex.text, ex.hints.get("url", "")))

    documents: list[Document] = []
    clauses: list[Clause] = []
    report = Report(documents, clauses, {}, paper.news_counts, problems)
    for meta in by_title:
        if meta.id not in paper.copies:
            where = paper.titled_only.get(meta.id)
            if where:
                problems.append(Problem(where[0], where[1], f"catalog document {meta.id!r} ({meta.title}) was found "
                                        "but has too little structure: demoted to news"))
            else:
                problems.append(Problem("documents.toml", meta.line, f"catalog entry {meta.id!r} ({meta.title}) "
                                        "matched nothing: no raw file prints its title or an alias"))
            continue
        merged, n = merge_copies(paper.copies[meta.id])
        report.merged[meta.id] = n
        if len(paper.copies[meta.id]) > 1:
            problems.append(Problem("documents.toml", meta.line, f"{meta.id}: {len(paper.copies[meta.id])} printings "
                                    f"merged ({n} units matched)", "note"))
        sources_ = tuple(dict.fromkeys(c.source for c in paper.copies[meta.id]))
        toc = tuple(dict.fromkeys(u.section for u, _, _ in merged if u.section))
        doc = Document(meta.id, meta.title, meta.issuer, meta.date, meta.kind or "policy", sources_,
                       short_title=short_title(meta.title), wenhao=meta.wenhao, status=meta.status, url=meta.url,
                       scope=meta.scope, aliases=meta.aliases,
                       files=tuple(s.removeprefix(RAW_PREFIX) for s in sources_))
        keys: dict[str, int] = {}
        doc_clauses = [_paper_clause(doc, unit, source, alts, keys) for unit, source, alts in merged]
        documents.append(_with_toc(doc, [(1, s) for s in toc], doc_clauses))
        clauses.extend(doc_clauses)
        report.structure[meta.id] = {"sections": len(toc), "units": len(doc_clauses)}
    for doc, units in paper.news:
        documents.append(doc)
        keys = {}
        clauses.extend(_paper_clause(doc, unit, doc.sources[0], [], keys) for unit in units)
    for group in _printings(found, problems):
        doc, doc_clauses = _document(group, problems)
        documents.append(doc)
        clauses.extend(doc_clauses)
        report.structure[doc.id] = group[0].parsed.counts()
        report.metadata[doc.id] = group[0].meta
    for entry in bound.values():
        if not (raw_dir / entry.file).is_file():
            problems.append(Problem("documents.toml", entry.line, f"catalog entry {entry.id!r} names file "
                                    f"{entry.file!r}, which is not in raw/"))
    _check_units(clauses, corpus_dir, problems)
    return report


@dataclass
class _Found:
    """One source read as a document, before printings of the same document are merged."""

    doc_id: str
    file: str
    source: str
    entry: Entry | None
    parsed: Parsed
    meta: Meta
    text: str
    url: str = ""  # the address the source states for itself (an HTML page's canonical link)


def _same_document(a: Meta, b: Meta) -> bool:
    """Two printings of one document: the same title, and the same 文号 or date where both state one."""
    if _fold_title(a.title) != _fold_title(b.title):
        return False
    if a.wenhao and b.wenhao:
        return fold(a.wenhao) == fold(b.wenhao)
    return not (a.date and b.date) or a.date == b.date


def _printings(found: list[_Found], problems: list[Problem]) -> list[list[_Found]]:
    """Group printings of one document; two different documents under one id are kept apart, loudly."""
    groups: list[list[_Found]] = []
    for item in found:
        home = next((g for g in groups if g[0].doc_id == item.doc_id or (
            item.entry is None and g[0].entry is None and _same_document(g[0].meta, item.meta))), None)
        if home is None:
            groups.append([item])
        elif _same_document(home[0].meta, item.meta):
            home.append(item)
            problems.append(Problem(item.source, 1, f"a printing of {home[0].doc_id!r} ({home[0].meta.title}): "
                                    "merged", "note"))
        else:
            problems.append(Problem(item.source, 1, f"different documents would merge under id {item.doc_id!r}: "
                                    f"{home[0].meta.title} {home[0].meta.wenhao or home[0].meta.date} vs "
                                    f"{item.meta.title} {item.meta.wenhao or item.meta.date}; kept apart"))
            item.doc_id = f"{item.doc_id}-{len(groups)}"
            groups.append([item])
    return groups


def _document(group: list[_Found], problems: list[Problem]) -> tuple[Document, list[Clause]]:
    """A document and its clauses from its printings (the first is canonical, the others alternates)."""
    head = group[0]
    meta, entry = head.meta, head.entry
    if entry and entry.kind and entry.kind != "news" and not (head.parsed.headings or head.parsed.articles
                                                              or any(u.number for u in head.parsed.units)):
        problems.append(Problem(head.source, 1, f"catalog says {entry.kind} but no numbered structure was found: "
                                "read as plain paragraphs (demoted to news-like text)"))
    sources_ = tuple(dict.fromkeys(f.source for f in group))
    doc = Document(
        head.doc_id, meta.title, meta.issuer, meta.date, meta.kind or "policy", sources_,
        short_title=short_title(meta.title), wenhao=meta.wenhao, effective=meta.effective, status=meta.status,
        url=(entry.url if entry else "") or head.url, scope=entry.scope if entry else (),
        aliases=entry.aliases if entry else (),
        files=tuple(f.file for f in group),
    )
    clauses = [_doc_clause(doc, unit, head) for unit in head.parsed.units]
    by_key = {c.id: k for k, c in enumerate(clauses)}
    for other in group[1:]:
        for unit in other.parsed.units:
            k = by_key.get(f"{doc.id}-{unit.key}")
            if k is not None:
                c = clauses[k]
                alt = Span(other.source, unit.pieces[0][0], unit.pieces[-1][1])
                clauses[k] = replace(c, alternates=(*c.alternates, alt))
    toc = [(len(h.path), h.label, h.path) for h in head.parsed.headings]
    return _with_toc(doc, toc, clauses), clauses


def _with_toc(doc: Document, toc: list, clauses: list[Clause]) -> Document:
    """The document with its table of contents, each heading anchored at its first clause."""
    out = []
    for item in toc:
        level, label = item[0], item[1]
        path = item[2] if len(item) > 2 else (label,)
        anchor = next((c.id for c in clauses if c.path[: len(path)] == path or (c.section == label and not c.path)),
                      "")
        out.append(Heading(level, label, anchor))
    return replace(doc, toc=tuple(out))


def _doc_clause(doc: Document, unit: Unit, found: _Found) -> Clause:
    pieces = _merge_pieces(unit, found.text)
    section = " › ".join(unit.path) or {"intro": "引言", "head": HEAD_SECTION, "signature": SIGN_SECTION}.get(
        unit.role, "")
    return Clause(
        id=f"{doc.id}-{unit.key}", doc_id=doc.id, document=doc.title, kind=doc.kind, section=section,
        number=unit.number, text="".join(t for _, t in pieces), span=Span(found.source, pieces[0][0][0],
                                                                           pieces[-1][0][1]),
        path=unit.path, line=unit.line,
        pieces=tuple(Span(found.source, s, e) for (s, e), _ in pieces) if len(pieces) > 1 else (),
        piece_texts=tuple(t.strip("\n") for _, t in pieces) if len(pieces) > 1 else (),
    )


def _merge_pieces(unit: Unit, text: str) -> list[tuple[tuple[int, int], str]]:
    """Adjacent pieces separated by whitespace only are one verbatim run; furniture between them is not."""
    out: list[tuple[tuple[int, int], str]] = []
    for (start, end), piece in zip(unit.pieces, unit.texts, strict=True):
        if out and not text[out[-1][0][1] : start].strip().translate(ZERO_WIDTH):
            (s0, _), t0 = out[-1]
            out[-1] = ((s0, end), t0 + piece)
        else:
            out.append(((start, end), piece))
    return out


def _paper_clause(doc: Document, unit: _PaperUnit, source: str, alts: list[Span], keys: dict[str, int]) -> Clause:
    """A newspaper unit's clause; its id from its section and number, or a hash of its text."""
    key = _paper_key(unit)
    n = keys.get(key, 0) + 1
    keys[key] = n
    return Clause(
        id=f"{doc.id}-{key if n == 1 else f'{key}-{n}'}", doc_id=doc.id, document=doc.title, kind=doc.kind,
        section=unit.section, number=unit.number, text=unit.text, span=Span(source, unit.start, unit.end),
        alternates=tuple(alts),
    )


def _paper_key(unit: _PaperUnit) -> str:
    """Section and clause number (二、 + （三） -> h2i3) for a numbered clause, else a hash of the text."""
    if unit.number.startswith("（"):
        key = _label_key(unit.section) + _label_key(unit.number)
        if key:
            return key
    return content_key(unit.section + unit.text)


@lru_cache(maxsize=4096)
def _label_key(label: str) -> str:
    m = load_numbering().match(label) if label else None
    return number_key(*m) if m else ""


def _check_units(clauses: list[Clause], corpus_dir: Path, problems: list[Problem]) -> None:
    """Loud checks on what will be quoted: size, page furniture and signatures inside a unit."""
    line_starts: dict[str, list[int]] = {}
    for c in clauses:
        if c.section in (HEAD_SECTION, SIGN_SECTION):
            continue  # the document's own notes: a date and an issuer are what they hold
        too_long = len(c.text) > CHECKED_UNIT
        found = furniture_or_signature(c.text)
        if not (too_long or found):
            continue
        line = c.line or _line_of(corpus_dir, c.span, line_starts)
        if too_long:
            problems.append(Problem(c.source, line, f"unit {c.id} has {len(c.text)} characters (over {CHECKED_UNIT})"))
        if found:
            problems.append(Problem(c.source, line, f"unit {c.id} holds page furniture or a signature ({found})"))


def _line_of(corpus_dir: Path, span: Span, cache: dict[str, list[int]]) -> int:
    """1-based line of an offset in a raw text (line starts read once per file)."""
    if span.source not in cache:
        try:
            text = (corpus_dir / "raw" / span.source.removeprefix(RAW_PREFIX)).read_text(encoding="utf-8")
        except OSError:
            text = ""
        cache[span.source] = [0] + [m.end() for m in re.finditer("\n", text)]
    return bisect.bisect_right(cache[span.source], span.start)


class _Newspaper:
    """Newspaper page exports: catalog documents found by their printed titles, news articles beside them."""

    def __init__(self, catalog: list[Entry]) -> None:
        self.catalog = catalog
        self.copies: dict[str, list[Copy]] = {}
        self.news: list[tuple[Document, list[_PaperUnit]]] = []
        self.news_counts: dict[str, int] = {}
        self.titled_only: dict[str, tuple[str, int]] = {}  # catalog id -> (source, line) of a title with no text
        self.generic = {e.id: g for e in catalog if (g := _generic_aliases(e))}

    def read(self, raw: str, source: str, stem: str, problems: list[Problem]) -> bool:
        """Read one file if it is a newspaper page (datelines, continuation marks or a catalog title)."""
        catalog = self._catalog_for(raw, source, problems)
        titles = title_lookup(catalog)
        fragments = split_fragments(read_lines(raw))
        for fragment in fragments:
            take_title_blocks(fragment, titles)
        page_titles = set().union(*(f.titles for f in fragments)) if fragments else set()
        if len(fragments) < 2 and not page_titles:
            return False
        pending: list[Line] = []
        n_news = 0
        for fragment in fragments:
            if not fragment.lines:
                continue
            sections, clauses = structure_count(fragment.lines)
            doc_id = _structured_doc(fragment, page_titles, sections, clauses)
            if doc_id:
                paras = paragraphs(fragment.lines, news=False)
                units = build_units(paras, intro="引言")
                self.copies.setdefault(doc_id, []).append(
                    Copy(doc_id, source, units, sections, clauses, bool(fragment.titles))
                )
                pending = []
                continue
            for title_id in fragment.titles:
                at = fragment.title_start if fragment.title_start >= 0 else fragment.lines[0].start
                line = raw[:at].count("\n") + 1
                self.titled_only.setdefault(title_id, (source, line))
            fragment.lines = pending + fragment.lines
            pending = []
            take_headlines(fragment)
            if not fragment.lines:  # a headline printed above the continuation marker
                pending = fragment.headline
                continue
            paras = paragraphs(fragment.lines, news=True)
            units = build_units(paras, intro="")
            if not units:
                continue
            n_news += 1
            title = _news_title(fragment, paras)
            doc = Document(f"news-{stem[:3]}-{n_news}", title, "", "", "news", (source,),
                           files=(source.removeprefix(RAW_PREFIX),))
            self.news.append((doc, units))
        self.news_counts[source] = n_news
        return True

    def _catalog_for(self, raw: str, source: str, problems: list[Problem]) -> list[Entry]:
        """The entries that may match this page: a generic alias (政府工作报告) only where the page names the place."""
        if not self.generic:
            return self.catalog
        folded = fold(raw)
        out = []
        for entry in self.catalog:
            drop = {alias for alias, names in self.generic.get(entry.id, ()) if not any(n in folded for n in names)}
            for alias in drop:
                if _fold_title(alias) in folded and any(
                        _fold_title(line.text) == _fold_title(alias) for line in read_lines(raw)):
                    problems.append(Problem(source, 1, f"title {alias!r} is a generic alias of {entry.id!r} and the "
                                            f"page does not name {entry.scope[0] if entry.scope else entry.title}: "
                                            "kept apart (a different document)", "note"))
            out.append(replace(entry, aliases=tuple(a for a in entry.aliases if a not in drop)) if drop else entry)
        return out


def _generic_aliases(entry: Entry) -> list[tuple[str, tuple[str, ...]]]:
    """Aliases that are the title minus its place (政府工作报告), with the names that must be on the page."""
    out = []
    title = _fold_title(entry.title)
    for alias in entry.aliases:
        place = title.removesuffix(_fold_title(alias))
        if place != title and len(place) >= 2:
            names = tuple(fold(n) for n in (*entry.scope, re.sub(r"[州省市县区]$", "", place)) if n)
            out.append((alias, names))
    return out


def _structured_doc(fragment: Fragment, page_titles: set[str], sections: int, clauses: int) -> str | None:
    """The catalog document a structured fragment prints: titled in it, or elsewhere on its page."""
    if sections + clauses < 3:
        return None
    titles = fragment.titles or page_titles
    return sorted(titles)[0] if titles else None


def _news_title(fragment: Fragment, paras: list[tuple[str, list[Line]]]) -> str:
    head = [" ".join(line.raw.split()) for line in fragment.headline if _is_headline(line.text, allow_comma=True)]
    if head:
        return " ".join(head[:2])
    if fragment.tail_headline:
        return fragment.tail_headline[0].text
    for role, lines in paras:
        if role == "subhead":
            return "".join(line.text for line in lines)
    first = "".join(line.text for line in paras[0][1])
    return first[:20] + "……"

