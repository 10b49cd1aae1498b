"""Raw newspaper exports -> cleaned documents -> retrievable units with provenance.

The exports are messy the way real ones are: lines broken by newspaper columns, OCR
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

import re
import statistics
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from .models import Clause, Document, Span

# The raw file kinds ingest() reads; `policy-qa add` and the upload API accept exactly these.
SUPPORTED_SUFFIXES = (".txt",)
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


def clean(text: str) -> str:
    """Drop line breaks and OCR spacing; keep a space only between two Latin words/numbers."""
    out: list[str] = []
    pending_space = False
    for ch in text:
        if ch.isspace():
            pending_space = True
            continue
        if pending_space and out and _is_ascii_word(out[-1]) and _is_ascii_word(ch):
            out.append(" ")
        pending_space = False
        out.append(ch)
    return "".join(out)


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


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
    headline: list[Line] = field(default_factory=list)
    tail_headline: list[Line] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)  # catalog ids whose title block stood here


@dataclass
class Unit:
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
    units: list[Unit]
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


@dataclass(frozen=True)
class DocMeta:
    id: str
    title: str
    aliases: tuple[str, ...]
    issuer: str
    date: str
    kind: str

    def folded_titles(self) -> list[str]:
        return [_fold_title(t) for t in (self.title, *self.aliases)]


def _fold_title(text: str) -> str:
    return re.sub(r"[《》“”\"']", "", fold(text))


def load_catalog(path: Path) -> list[DocMeta]:
    """Read documents.toml."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        DocMeta(
            id=d["id"], title=d["title"], aliases=tuple(d.get("aliases", ())),
            issuer=d.get("issuer", ""), date=d.get("date", ""), kind=d.get("kind", "policy"),
        )
        for d in data.get("document", [])
    ]


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


def title_lookup(catalog: list[DocMeta]) -> dict[str, str]:
    """Folded title or alias -> doc id (the first entry naming it wins), so matching a line costs one lookup."""
    out: dict[str, str] = {}
    for meta in catalog:
        for title in meta.folded_titles():
            out.setdefault(title, meta.id)
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


def build_units(paras: list[tuple[str, list[Line]]], intro: str) -> list[Unit]:
    """Turn paragraphs into retrievable units under their section headings."""
    units: list[Unit] = []
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
            units.append(Unit(section, _clause_number(text), start, end, body))
        elif role == "dash":
            units.append(Unit(section, _dash_label(text), start, end, body))
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
                units.append(Unit(section, number, start, end, body))
    return units


def _bigrams(text: str) -> set[str]:
    t = fold(text)
    return {t[i : i + 2] for i in range(len(t) - 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams: 1.0 for the same clause in another printing."""
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


MERGE_SIMILARITY = 0.5  # unnumbered paragraphs this alike are one passage printed twice


def merge_copies(copies: list[Copy]) -> tuple[list[tuple[Unit, str, list[Span]]], int]:
    """Merge printings of one document: canonical units with their alternate spans."""
    copies = sorted(copies, key=lambda c: (c.sections + c.clauses, c.titled, -len(c.units)), reverse=True)
    canon = copies[0]
    merged: list[tuple[Unit, str, list[Span]]] = [(u, canon.source, []) for u in canon.units]
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


def ingest(corpus_dir: Path) -> Report:
    """Read corpus/raw/*.txt with corpus/documents.toml into documents and clauses."""
    catalog = load_catalog(corpus_dir / "documents.toml")
    titles = title_lookup(catalog)
    copies: dict[str, list[Copy]] = {}
    news: list[tuple[Document, list[Unit]]] = []
    news_counts: dict[str, int] = {}
    raw_dir = corpus_dir / "raw"
    for path in sorted(raw_dir.glob("*.txt")):
        source = f"corpus/raw/{path.name}"
        raw = path.read_text(encoding="utf-8")
        fragments = split_fragments(read_lines(raw))
        for fragment in fragments:
            take_title_blocks(fragment, titles)
        page_titles = set().union(*(f.titles for f in fragments)) if fragments else set()
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
                copies.setdefault(doc_id, []).append(
                    Copy(doc_id, source, units, sections, clauses, bool(fragment.titles))
                )
                pending = []
                continue
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
            doc = Document(f"news-{path.stem[:3]}-{n_news}", title, "", "", "news", (source,))
            news.append((doc, units))
        news_counts[source] = n_news

    documents: list[Document] = []
    clauses: list[Clause] = []
    merged_counts: dict[str, int] = {}
    for meta in catalog:
        if meta.id not in copies:
            continue
        merged, n = merge_copies(copies[meta.id])
        merged_counts[meta.id] = n
        sources = tuple(dict.fromkeys(c.source for c in copies[meta.id]))
        doc = Document(meta.id, meta.title, meta.issuer, meta.date, meta.kind, sources)
        documents.append(doc)
        for k, (unit, source, alts) in enumerate(merged):
            clauses.append(_clause(doc, k, unit, source, alts))
    for doc, units in news:
        documents.append(doc)
        for k, unit in enumerate(units):
            clauses.append(_clause(doc, k, unit, doc.sources[0], []))
    return Report(documents, clauses, merged_counts, news_counts)


def _clause(doc: Document, k: int, unit: Unit, source: str, alts: list[Span]) -> Clause:
    return Clause(
        id=f"{doc.id}-{k + 1:03d}", doc_id=doc.id, document=doc.title, kind=doc.kind,
        section=unit.section, number=unit.number, text=unit.text,
        span=Span(source, unit.start, unit.end), alternates=tuple(alts),
    )


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
