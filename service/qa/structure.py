"""A document's text -> head, body tree and citable units, by numbering schemes declared as data.

The schemes (第X编/章/节/条, 一、, （一）, 1., （1）, ①, ——, 一是, 1.1 …) and the page-furniture
patterns live in service/data/numbering.toml; nothing here names a document. Every unit keeps the
source offsets of its verbatim pieces: a unit that a page number interrupts is two pieces, and the
page number is in neither.
"""
from __future__ import annotations

import hashlib
import re
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tomllib

NUMBERING_FILE = Path(__file__).resolve().parent.parent / "data" / "numbering.toml"
CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_CLASS = "一二三四五六七八九十百零〇两"
N_CLASS = "0-9０-９"
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

HEAD_SECTION = "文件信息"  # section of the unit holding a document's head notes
SIGN_SECTION = "落款"  # section of the unit holding its signature
MAX_UNIT = 1500  # a citable unit past this is split at a paragraph (款) or sentence boundary
MAX_MERGED = 700  # unnumbered paragraphs join the numbered clause before them up to this size
HEADING_MAX = 40  # a numbered line this short, with no sentence inside, is a heading
LEAD_IN_MAX = 60  # "各省、自治区……：" and "主要目标是：" are glued to the unit after them
REPEATED_FURNITURE = 3  # a short line printed this often is a running header or footer
FINAL = "。！？!?；;…"
SIGNATURE_ORG_RE = re.compile(
    r"^[\u4e00-\u9fff（）()、\s]{2,40}(?:国务院|办公厅|办公室|政府|委员会|常务委员会|部|局|厅|署|院|会|中心|集团|公司|小组|（章）)$"
)
DATE_RE = re.compile(r"([0-9０-９]{4}|[〇零一二三四五六七八九]{4})\s*年"
                     r"\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*月"
                     r"\s*([0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*日")
DATE_LINE_RE = re.compile(rf"^[（(]?{DATE_RE.pattern}[）)]?$")
NOTE_LINE_RE = re.compile(r"^[（(]此件[^）)]{0,12}[）)]$|^(?:抄送|联系人|联系电话)[：:]")
ADDRESSEE_RE = re.compile(r"[：:]$")
# labels of a page's document-information lines ("主 题 词：", "来源："): head, not an addressee
INFO_LABEL_RE = re.compile(r"^(?:[\u4e00-\u9fff][\s　]+){1,5}[\u4e00-\u9fff][\s　]*[：:]"
                           r"|^(?:主题词|关键词|索引号|发文机关|发文字号|成文日期|发布日期|标题|来源|时间|作者|责任编辑"
                           r"|主题分类|文号)[\s　]*[：:]")


@dataclass(frozen=True)
class Scheme:
    name: str
    pattern: re.Pattern
    rank: int
    role: str  # heading | article | item | bullet
    key: str


@dataclass(frozen=True)
class Numbering:
    schemes: tuple[Scheme, ...]
    furniture: tuple[tuple[str, re.Pattern], ...]  # whole lines
    inside: tuple[tuple[str, re.Pattern], ...]  # furniture or a signature inside a unit's text

    def match(self, text: str) -> tuple[Scheme, str] | None:
        """The scheme numbering this paragraph, and the number as printed."""
        for scheme in self.schemes:
            m = scheme.pattern.match(text)
            if m:
                return scheme, m.group().strip()
        return None

    def furniture_kind(self, text: str) -> str:
        for name, pattern in self.furniture:
            if pattern.match(text):
                return name
        return ""


def _expand(pattern: str) -> str:
    return pattern.replace("{cn}", CN_CLASS).replace("{n}", N_CLASS)


@lru_cache(maxsize=4)
def load_numbering(path: Path = NUMBERING_FILE) -> Numbering:
    """Read the schemes and furniture patterns (cached: they are data, read once per process)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    schemes = tuple(
        Scheme(s["name"], re.compile(_expand(s["pattern"])), int(s["rank"]), s["role"], s["key"])
        for s in data.get("scheme", [])
    )
    furniture = tuple((name, re.compile(_expand(p))) for name, p in data.get("furniture", {}).items())
    inside = tuple((name, re.compile(_expand(p).replace("{date}", DATE_RE.pattern)))
                   for name, p in data.get("inside", {}).items())
    return Numbering(schemes, furniture, inside)


def fold_text(text: str) -> str:
    """Text as compared across formats: no whitespace, no zero-width characters."""
    return "".join(text.translate(ZERO_WIDTH).split())


# ---- numbers ---------------------------------------------------------------------------------
def cn_to_int(text: str) -> int | None:
    """一百零八 -> 108, 十二 -> 12, 12 -> 12; None when it is no number."""
    text = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CN_CLASS for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch in "十百":
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
        else:
            current = CN_VALUE[ch]
    return total + current


def number_key(scheme: Scheme, number: str) -> str:
    """ASCII key of a structural number: 第二十一条 -> a21, （三） -> i3, 1.2.1 -> d1-2-1 (joined: h2i3)."""
    digits = re.findall(rf"[{N_CLASS}]+|[{CN_CLASS}]+", number)
    values = [cn_to_int(d) for d in digits]
    if scheme.role == "bullet" or not values or any(v is None for v in values):
        return ""
    if "之" in number and len(values) == 2:
        return f"{scheme.key}{values[0]}x{values[1]}"
    return scheme.key + "-".join(str(v) for v in values)


def content_key(text: str) -> str:
    """A short hash of a unit's text: its id when it has no number, stable wherever it moves."""
    return "u" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


# ---- lines and paragraphs -----------------------------------------------------------------------
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


def clean_line(text: str, wrapped: bool) -> str:
    """A line as quoted: zero-width characters out; wrapped lines also lose spaces between Han characters."""
    text = text.translate(ZERO_WIDTH).strip()
    return clean(text) if wrapped else re.sub(r"\s+", " ", text)


@dataclass
class SrcLine:
    text: str  # cleaned
    start: int
    end: int
    number: int  # 1-based line number in the source text
    md_level: int = 0  # markdown heading level (# = 1)
    indented: bool = False


@dataclass
class Para:
    lines: list[SrcLine]
    gaps: list[int] = field(default_factory=list)  # indexes into lines where a furniture line was skipped

    @property
    def text(self) -> str:
        return "".join(line.text for line in self.lines)

    @property
    def line(self) -> int:
        return self.lines[0].number

    @property
    def md_level(self) -> int:
        return self.lines[0].md_level


MD_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+")


def source_lines(text: str, markdown: bool) -> list[SrcLine]:
    """Non-blank lines with the offsets of their first and last visible characters."""
    out = []
    pos = 0
    for number, chunk in enumerate(text.splitlines(keepends=True), 1):
        body = chunk.rstrip("\r\n")
        visible = body.translate(ZERO_WIDTH)
        if visible.strip():
            lead = len(body) - len(body.lstrip().lstrip("\u200b\ufeff"))
            stripped = body.strip().strip("\u200b\ufeff").strip()
            start = pos + body.find(stripped[0]) if stripped else pos + lead
            level = 0
            m = MD_HEADING_RE.match(stripped) if markdown else None
            if m:
                level = len(m.group(1))
                start += m.end()
                stripped = stripped[m.end():]
            out.append(SrcLine(stripped, start, start + len(stripped), number, level,
                               indented=body[:1].isspace()))
        pos += len(chunk)
    return out


def column_width(lines: list[SrcLine]) -> int:
    """The usual length of a full line when text is hard-wrapped (PDF-like), else 0."""
    lengths = sorted(len(line.text) for line in lines if len(line.text) > 4)
    if len(lengths) < 8 or statistics.median(lengths) >= 50:
        return 0
    width = lengths[int(len(lengths) * 0.75)]
    full = [line for line in lines if len(line.text) >= 0.9 * width]
    open_ended = sum(1 for line in full if line.text[-1] not in FINAL + "：:")
    return width if full and open_ended / len(full) >= 0.5 else 0


# ---- the parse ------------------------------------------------------------------------------------
@dataclass
class Heading:
    level: int  # rank of its scheme (markdown headings: their # count)
    label: str  # the heading as printed: "第二章 家庭承包"
    number: str  # "第二章", or "" for an unnumbered heading
    line: int
    path: tuple[str, ...] = ()  # the headings above it and itself


@dataclass
class Unit:
    path: tuple[str, ...]  # heading labels above it
    number: str  # "第二十一条", "（三）", "——坚持量质并重", or ""
    key: str  # structural id part: "c2.a21", or a content hash
    lines: list[SrcLine]
    pieces: list[tuple[int, int]]  # verbatim runs in the source text
    texts: list[str]  # the quoted text of each piece
    rank: int = 99  # rank of the scheme that numbers it (99: unnumbered)
    role: str = "para"  # article | item | bullet | para | intro

    @property
    def text(self) -> str:
        return "".join(self.texts)

    @property
    def line(self) -> int:
        return self.lines[0].number


@dataclass
class Parsed:
    """A document's text read into its parts."""

    head: list[SrcLine]  # lines before the body: title, 文号, dates, adoption notes, chrome
    title_lines: list[SrcLine]
    units: list[Unit]
    headings: list[Heading]
    signature: list[SrcLine]  # issuer and date lines after the body
    furniture: list[SrcLine]  # page numbers, running headers, print lines, viewer chrome
    articles: int = 0

    def counts(self) -> dict[str, int]:
        """How many of each heading scheme and of articles were found: for reports and tests."""
        out: dict[str, int] = {}
        for h in self.headings:
            name = h.number[-1:] if h.number.startswith("第") else ("heading" if not h.number else "item-heading")
            out[name] = out.get(name, 0) + 1
        out["条"] = self.articles
        out["units"] = len(self.units)
        return out


def parse(text: str, markdown: bool = False, title_hint: str = "") -> Parsed:
    """Read a document's text into head, headings, citable units and signature."""
    numbering = load_numbering()
    lines = source_lines(text, markdown)
    width = column_width(lines) if not markdown else 0
    for line in lines:
        line.text = clean_line(line.text, wrapped=bool(width))
    furniture = _furniture(lines, numbering)
    body = [line for line in lines if id(line) not in furniture]
    signature = _signature(body, numbering)
    if signature:
        body = body[: len(body) - len(signature)]
    head, body, title_lines = _head(body, numbering, title_hint)
    paras = _paragraphs(body, lines, furniture, width, numbering)
    units, headings, articles = _units(paras, numbering)
    # the document's own notes (title, 文号, adoption and amendment dates, speaker) and its signature are
    # citable too, each as one unit apart from the articles: "哪天通过的", "文号是多少"
    notes = head if any(id(line) not in {id(t) for t in title_lines} for line in head) else []
    for role, part, at in (("head", notes, 0), ("signature", signature, len(units))):
        if part:
            unit = Unit((), "", role, [], [], [], 99, role)
            for line in part:
                _append(unit, Para([line]))
            units.insert(at, unit)
    return Parsed(head, title_lines, units, headings, signature,
                  [line for line in lines if id(line) in furniture], articles)


def _furniture(lines: list[SrcLine], numbering: Numbering) -> set[int]:
    """Page numbers, print lines, viewer chrome and short lines repeated like running headers."""
    out = {id(line) for line in lines if numbering.furniture_kind(line.text)}
    counts: dict[str, int] = {}
    for line in lines:
        if len(line.text) <= 40 and not line.md_level and not numbering.match(line.text):
            counts[_digits_folded(line.text)] = counts.get(_digits_folded(line.text), 0) + 1
    repeated = {k for k, n in counts.items() if n >= REPEATED_FURNITURE and not _is_sentence(k)}
    out |= {id(line) for line in lines if _digits_folded(line.text) in repeated}
    return out


def _digits_folded(text: str) -> str:
    return re.sub(rf"[{N_CLASS}]+", "0", text)


def _is_sentence(text: str) -> bool:
    return any(ch in text for ch in "。；！？")


def furniture_or_signature(text: str) -> str:
    """What of a page's furniture or a signature a unit's text holds inside it, or ''."""
    for name, pattern in load_numbering().inside:
        m = pattern.search(text.rstrip())
        if m:
            return f"{name}: {m.group().strip()[:30]}"
    return ""


def _signature(body: list[SrcLine], numbering: Numbering) -> list[SrcLine]:
    """The issuer, date and notes closing a document (right-pushed lines after the last paragraph)."""
    k = len(body)
    seen_date = False
    while k > 0:
        text = body[k - 1].text
        compact = re.sub(r"\s+", "", text)
        if DATE_LINE_RE.match(compact):
            seen_date = True
        elif NOTE_LINE_RE.match(compact):
            pass
        elif SIGNATURE_ORG_RE.match(compact) and len(compact) <= 30 and (seen_date or k < len(body)):
            pass
        elif _org_date_line(text):
            seen_date = True
        else:
            break
        k -= 1
    if not seen_date:
        return []
    return body[k:]


def _org_date_line(text: str) -> bool:
    """'国务院办公厅    2018年12月30日    （此件公开发布）' on one line."""
    m = DATE_RE.search(text)
    if not m:
        return False
    before = re.sub(r"\s+", "", text[: m.start()])
    after = re.sub(r"\s+", "", text[m.end():])
    return (not before or bool(SIGNATURE_ORG_RE.match(before))) and (not after or bool(NOTE_LINE_RE.match(after)))


def _head(body: list[SrcLine], numbering: Numbering,
          title_hint: str) -> tuple[list[SrcLine], list[SrcLine], list[SrcLine]]:
    """Split the lines before the body (title, 文号, adoption notes, viewer chrome) from the body."""
    k = 0
    for k, line in enumerate(body):
        text = line.text
        m = numbering.match(text)
        if line.md_level >= 2 or (m and m[0].role != "bullet"):
            break
        if ADDRESSEE_RE.search(text) and len(text) <= LEAD_IN_MAX and k > 0 and not INFO_LABEL_RE.match(text):
            break
        if len(text) >= 40 and _is_sentence(text):
            break
    else:
        k = len(body)
    head = body[:k]
    title_lines = _title_lines(head, title_hint)
    return head, body[k:], title_lines


DOC_TYPE_RE = re.compile(
    r"(法|条例|规定|办法|细则|规则|意见|通知|决定|方案|规划|计划|纲要|报告|公告|通告|批复|函|令|指引|指南|标准|措施)$"
)


def _title_lines(head: list[SrcLine], title_hint: str) -> list[SrcLine]:
    """The head lines printing the title: a markdown '# ' line, the hint, or a run ending in a document type."""
    for line in head:
        if line.md_level == 1:
            return [line]
    hint = re.sub(r"\s+", "", title_hint)
    for i in range(len(head)):
        for j in range(i + 1, min(i + 4, len(head)) + 1):
            joined = "".join(re.sub(r"\s+", "", line.text) for line in head[i:j])
            if hint and joined == hint:
                return head[i:j]
            if not hint and DOC_TYPE_RE.search(joined) and not any(ch in joined for ch in "。，：:；") \
                    and len(joined) >= 4 and not DATE_RE.search(joined[:12]):
                return head[i:j]  # the first run of unpunctuated lines that ends in a document type
    return []


def _paragraphs(body: list[SrcLine], all_lines: list[SrcLine], furniture: set[int], width: int,
                numbering: Numbering) -> list[Para]:
    """Join hard-wrapped lines into paragraphs; a page's furniture between two lines only leaves a gap."""
    if not body:
        return []
    index = {id(line): i for i, line in enumerate(all_lines)}
    paras: list[Para] = []
    prev: SrcLine | None = None
    for line in body:
        new = True
        if width and prev is not None and paras:
            prev_full = len(prev.text) >= 0.85 * width and not prev.text.endswith(("：", ":"))
            marker = bool(numbering.match(line.text))
            new = line.indented or not prev_full or (marker and prev.text[-1:] in FINAL)
        if new:
            paras.append(Para([line]))
        else:
            para = paras[-1]
            if any(id(x) in furniture for x in all_lines[index[id(prev)] + 1 : index[id(line)]]):
                para.gaps.append(len(para.lines))
            para.lines.append(line)
        prev = line
    return paras


def _is_heading(text: str, number: str) -> bool:
    """A numbered line that names a part rather than says something: short, no sentence, no comma."""
    rest = text[len(number):].strip()
    return 0 < len(rest) and len(text) <= HEADING_MAX and not any(ch in rest for ch in "。；;！？!?，,")


def _units(paras: list[Para], numbering: Numbering) -> tuple[list[Unit], list[Heading], int]:
    """Walk the paragraphs: headings open levels, articles and numbered clauses open units."""
    matches = [numbering.match(p.text) for p in paras]
    articles = sum(1 for m in matches if m and m[0].role == "article")
    article_mode = articles >= 2
    stack: list[Heading] = []
    headings: list[Heading] = []
    filled: set[int] = set()
    units: list[Unit] = []
    current: Unit | None = None
    lead_in: list[Para] = []

    def path() -> tuple[str, ...]:
        return tuple(h.label for h in stack)

    def open_unit(para: Para, number: str, key: str, rank: int, role: str) -> Unit:
        nonlocal current, lead_in
        unit = Unit(path(), number, key, [], [], [], rank, role)
        filled.update(id(h) for h in stack)  # a heading with no unit under it is a table of contents line
        for p in [*lead_in, para]:
            _append(unit, p)
        lead_in = []
        units.append(unit)
        current = unit
        return unit

    def push_heading(para: Para, level: int, number: str) -> None:
        nonlocal current, lead_in
        if lead_in:  # "……工作：" before a heading is a paragraph of its own
            open_unit(lead_in.pop(), "", "", 99, "para")
        while stack and stack[-1].level >= level:
            stack.pop()
        label = para.text
        heading = Heading(level, label, number, para.line)
        stack.append(heading)
        heading.path = path()
        headings.append(heading)
        current = None
        lead_in = []

    for para, m in zip(paras, matches, strict=True):
        text = para.text
        if m and m[0].role == "heading":
            push_heading(para, m[0].rank, m[1])
            continue
        if para.md_level and not (m and m[0].role == "article"):  # a markdown heading: "## 附件", "### 1.1 …"
            push_heading(para, m[0].rank if m else para.md_level, m[1] if m else "")
            continue
        if m and m[0].role == "article":
            open_unit(para, m[1], number_key(*m), m[0].rank, "article")
            continue
        if article_mode and current is not None and current.role == "article":
            _append(current, para)
            continue
        if m and m[0].role in ("item", "bullet"):
            scheme, number = m
            deeper = current is not None and current.rank < scheme.rank and current.role in ("item", "article")
            if scheme.role == "item" and _is_heading(text, number) and not deeper:
                push_heading(para, scheme.rank, number)
                continue
            if deeper and len(current.text) + len(text) <= MAX_UNIT:
                _append(current, para)
                continue
            label = number if scheme.role == "item" else _bullet_label(text)
            open_unit(para, label, number_key(scheme, number), scheme.rank, scheme.role)
            continue
        # an unnumbered paragraph
        if ADDRESSEE_RE.search(text) and len(text) <= LEAD_IN_MAX:
            lead_in.append(para)
            continue
        if current is not None and current.role == "item" and len(current.text) + len(text) <= MAX_MERGED:
            _append(current, para)
            continue
        role = "intro" if not stack and not units else "para"
        open_unit(para, "", "", 99, role)
    if lead_in:  # a closing "……：" with nothing after it is still text
        open_unit(lead_in.pop(), "", "", 99, "para")
    units = _split_long(units)
    _assign_keys(units)
    return units, [h for h in headings if id(h) in filled], articles


def _bullet_label(text: str) -> str:
    head = re.split(r"[。！？!?：:，,；;]", text, maxsplit=1)[0]
    return head[:16]


def _append(unit: Unit, para: Para) -> None:
    """Add a paragraph's lines to a unit as verbatim pieces (a new piece at each paragraph and gap)."""
    sep = "\n" if unit.texts else ""
    for i, line in enumerate(para.lines):
        if i == 0 or i in para.gaps:
            unit.pieces.append((line.start, line.end))
            unit.texts.append((sep if i == 0 else "") + line.text)
        else:
            start, _ = unit.pieces[-1]
            unit.pieces[-1] = (start, line.end)
            unit.texts[-1] += line.text
        unit.lines.append(line)
        sep = ""


def _split_long(units: list[Unit]) -> list[Unit]:
    """Units past MAX_UNIT split at their paragraph breaks (款), keeping their number."""
    out: list[Unit] = []
    for unit in units:
        if len(unit.text) <= MAX_UNIT or len(unit.pieces) < 2:
            out.append(unit)
            continue
        part = Unit(unit.path, unit.number, unit.key, [], [], [], unit.rank, unit.role)
        for piece, text in zip(unit.pieces, unit.texts, strict=True):
            if part.texts and len(part.text) + len(text) > MAX_UNIT and text.startswith("\n"):
                out.append(part)
                part = Unit(unit.path, unit.number, unit.key, [], [], [], unit.rank, unit.role)
                text = text[1:]
            part.pieces.append(piece)
            part.texts.append(text)
        part.lines = unit.lines
        out.append(part)
    return out


def _assign_keys(units: list[Unit]) -> None:
    """Structural keys (heading path + number) where numbered, content hashes elsewhere; unique in the document."""
    seen: dict[str, int] = {}
    for unit in units:
        key = unit.key
        if key and unit.role not in ("article", "head", "signature"):
            key = "".join(_path_key(p) for p in unit.path) + key
        if not key:
            key = content_key(unit.text)
        n = seen.get(key, 0) + 1
        seen[key] = n
        unit.key = key if n == 1 else f"{key}-{n}"


def _path_key(label: str) -> str:
    m = load_numbering().match(label)
    return number_key(*m) if m else ""
