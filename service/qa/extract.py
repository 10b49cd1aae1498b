"""Source files -> one UTF-8 text each, the text that citations, offsets and faithfulness refer to.

Accepted: plain text (UTF-8, GB18030/GBK, …: detected by charset-normalizer), markdown, HTML (the
article body found by lxml and a text-density heuristic), PDF with a text layer (pypdf; running
headers, footers and page numbers removed) and DOCX (python-docx, with Word's automatic numbering
written out). A UTF-8 .txt or .md file is its own text; every other source gets `<name>.txt` beside
it. Scanned PDFs, .doc, .wps and OFD files are refused with a message naming what is accepted.
"""
from __future__ import annotations

import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
ACCEPTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
ACCEPTED_TEXT = "accepted: .txt (UTF-8 or GB18030/GBK), .md, .html, .pdf with a text layer, .docx"
REFUSED = {
    ".doc": "a legacy Word .doc file: save it as .docx",
    ".wps": "a WPS Office .wps file: save it as .docx",
    ".ofd": "an OFD file: export it as PDF with a text layer",
    ".xls": "a spreadsheet", ".xlsx": "a spreadsheet", ".ppt": "a presentation", ".pptx": "a presentation",
    ".jpg": "an image (scan): no text", ".jpeg": "an image (scan): no text", ".png": "an image (scan): no text",
    ".tif": "an image (scan): no text", ".tiff": "an image (scan): no text", ".zip": "an archive",
}
DERIVED_SUFFIX = ".txt"

MAX_SOURCE_BYTES = 30 * 1024 * 1024
MAX_TEXT_CHARS = 5_000_000
EXTRACT_SECONDS = 30.0
# DOCX is a zip: bound what it may unpack to (a zip bomb is tiny and expands a thousandfold)
DOCX_MAX_MEMBERS = 2000
DOCX_MAX_UNPACKED = 200 * 1024 * 1024
DOCX_MAX_RATIO = 200
MIN_TEXT_LAYER = 20  # a PDF with fewer visible characters than this is a scan
SAFE_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f/\\:*?\"<>|]{1,150}$")


class ExtractionError(ValueError):
    """A source that cannot be read; the message says why and what is accepted."""


@dataclass
class Extracted:
    text: str
    text_name: str  # the file (in the source's folder) that holds `text`: the source itself or <name>.txt
    fmt: str  # text | markdown | html | pdf | docx
    hints: dict[str, str] = field(default_factory=dict)  # metadata the format states (HTML table, PDF info)


def safe_name(name: str) -> bool:
    """A plain file name: no folders, no control or shell-special characters, no leading dot."""
    return bool(SAFE_NAME_RE.match(name)) and not name.startswith(".") and name == name.strip() and ".." not in name


def is_derived(path: Path) -> bool:
    """The extracted text of another source in the same folder (report.pdf.txt beside report.pdf)."""
    return path.name.endswith(DERIVED_SUFFIX) and path.with_name(path.name[: -len(DERIVED_SUFFIX)]).is_file()


def sources(folder: Path) -> list[Path]:
    """Every source file of a folder, extracted texts and hidden files aside, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not is_derived(p))


def extract(path: Path, write: bool = True, seconds: float = EXTRACT_SECONDS) -> Extracted:
    """The UTF-8 text of one source; writes <name>.txt beside it unless it is UTF-8 text already."""
    suffix = path.suffix.lower()
    if not safe_name(path.name):
        raise ExtractionError(f"{path.name!r}: unsafe file name (folders, control or special characters)")
    if suffix in REFUSED:
        raise ExtractionError(f"{path.name}: {REFUSED[suffix]}; {ACCEPTED_TEXT}")
    if suffix not in ACCEPTED:
        raise ExtractionError(f"{path.name}: unknown format {suffix or '(no suffix)'}; {ACCEPTED_TEXT}")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise ExtractionError(f"{path.name}: {size} bytes, over the {MAX_SOURCE_BYTES} byte limit")
    deadline = time.monotonic() + seconds
    data = path.read_bytes()
    if suffix in TEXT_SUFFIXES:
        text, encoding = decode(data, path.name)
        fmt = "markdown" if suffix != ".txt" else "text"
        if encoding == "utf-8":
            return Extracted(text, path.name, fmt)
        result = Extracted(text, path.name + DERIVED_SUFFIX, fmt, {"encoding": encoding})
    elif suffix in (".html", ".htm"):
        from .html_text import html_text

        text, hints = html_text(decode(data, path.name)[0], deadline)
        result = Extracted(text, path.name + DERIVED_SUFFIX, "html", hints)
    elif suffix == ".pdf":
        text, hints = pdf_text(path, deadline)
        result = Extracted(text, path.name + DERIVED_SUFFIX, "pdf", hints)
    else:
        text, hints = docx_text(path, deadline)
        result = Extracted(text, path.name + DERIVED_SUFFIX, "docx", hints)
    if len(result.text) > MAX_TEXT_CHARS:
        raise ExtractionError(f"{path.name}: extracted text over {MAX_TEXT_CHARS} characters")
    if write:
        _write_text(path.with_name(result.text_name), result.text)
    return result


def _write_text(target: Path, text: str) -> None:
    """Write the extracted text when it changed (a read-only corpus still serves from memory)."""
    try:
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            return
        target.write_text(text, encoding="utf-8")
    except OSError:
        pass


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Bytes -> text: UTF-8 when valid, else the encoding charset-normalizer finds (GB18030, GBK, Big5…)."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ExtractionError(f"{name}: not text in any encoding found (UTF-8, GB18030, GBK, Big5…)")
    encoding = best.encoding
    if encoding in ("gb2312", "gbk", "cp936", "hz"):
        encoding = "gb18030"  # a superset: a GB2312 guess must not fail on one rarer character
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise ExtractionError(f"{name}: could not decode as {encoding}: {exc}") from None


def _check_deadline(deadline: float, name: str) -> None:
    if time.monotonic() > deadline:
        raise ExtractionError(f"{name}: extraction took longer than {EXTRACT_SECONDS:.0f} s")


# ---- PDF ----------------------------------------------------------------------------------------
PAGE_NUMBER_RE = re.compile(r"^[-—–－_\s]*\d{1,4}[-—–－_\s]*$|^第\s*\d+\s*页.*$|^\d+\s*/\s*\d+$")


def pdf_text(path: Path, deadline: float) -> tuple[str, dict[str, str]]:
    """The text layer, page by page, without running headers, footers and page numbers."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise ExtractionError(f"{path.name}: an encrypted PDF; {ACCEPTED_TEXT}")
        pages: list[list[str]] = []
        for page in reader.pages:
            _check_deadline(deadline, path.name)
            text = page.extract_text() or ""
            pages.append([line.strip() for line in text.splitlines() if line.strip()])
        info = reader.metadata or {}
        title = str(info.get("/Title") or "").strip()
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, ExtractionError):
            raise
        raise ExtractionError(f"{path.name}: not a readable PDF ({exc}); {ACCEPTED_TEXT}") from None
    visible = sum(len(line) for lines in pages for line in lines)
    if visible < MIN_TEXT_LAYER:
        raise ExtractionError(
            f"{path.name}: a PDF with no text layer (a scan?); OCR it first. {ACCEPTED_TEXT}")
    lines = [line for page_lines in _drop_running(pages) for line in page_lines]
    hints = {"title": title} if re.search(r"[\u4e00-\u9fff]", title) else {}
    return "\n".join(lines) + "\n", hints


def _drop_running(pages: list[list[str]]) -> list[list[str]]:
    """Remove page numbers and lines repeated at the top or bottom of most pages (digits folded)."""
    def folded(line: str) -> str:
        return re.sub(r"\d+", "0", re.sub(r"\s+", "", line))

    edge: dict[str, int] = {}
    for lines in pages:
        for line in {*lines[:2], *lines[-2:]}:
            edge[folded(line)] = edge.get(folded(line), 0) + 1
    running = {k for k, n in edge.items() if len(pages) >= 2 and n >= max(2, len(pages) // 2)}
    out = []
    for lines in pages:
        keep = list(lines)
        for end in (0, -1):  # headers at the top, footers at the bottom, up to two each
            for _ in range(2):
                if keep and (folded(keep[end]) in running or PAGE_NUMBER_RE.match(keep[end])):
                    keep.pop(end)
        out.append(keep)
    return out


# ---- DOCX ---------------------------------------------------------------------------------------
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _check_zip(path: Path) -> None:
    """Refuse archives that would unpack too far: too many members, too large, too compressed."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(f"{path.name}: not a DOCX (zip) file ({exc}); {ACCEPTED_TEXT}") from None
    if len(infos) > DOCX_MAX_MEMBERS:
        raise ExtractionError(f"{path.name}: {len(infos)} parts, over the {DOCX_MAX_MEMBERS} limit")
    total = sum(i.file_size for i in infos)
    if total > DOCX_MAX_UNPACKED:
        raise ExtractionError(f"{path.name}: unpacks to {total} bytes, over the {DOCX_MAX_UNPACKED} limit")
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > DOCX_MAX_RATIO * max(info.compress_size, 1):
            raise ExtractionError(f"{path.name}: part {info.filename} is compressed over {DOCX_MAX_RATIO}:1")


def docx_text(path: Path, deadline: float) -> tuple[str, dict[str, str]]:
    """Body paragraphs and table cells in order, each automatic number written out as Word shows it."""
    _check_zip(path)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ExtractionError(f"{path.name}: not a readable DOCX ({exc}); {ACCEPTED_TEXT}") from None
    numbering = _Numbering(document)
    lines: list[str] = []
    body = document.element.body
    for block in body.iterchildren():
        _check_deadline(deadline, path.name)
        if block.tag == f"{W}p":
            text = _paragraph_text(block)
            label = numbering.label(block, document)
            if text.strip():
                lines.append(label + text.strip())
        elif block.tag == f"{W}tbl":
            for row in block.iter(f"{W}tr"):
                cells = ["".join(_paragraph_text(p) for p in cell.iter(f"{W}p")).strip()
                         for cell in row.iter(f"{W}tc")]
                if any(cells):
                    lines.append("\t".join(cells))
    title = (document.core_properties.title or "").strip()
    hints = {"title": title} if re.search(r"[\u4e00-\u9fff]", title) else {}
    return "\n".join(lines) + "\n", hints


def _paragraph_text(p) -> str:
    parts = []
    for node in p.iter(f"{W}t", f"{W}tab"):
        parts.append(node.text or "" if node.tag == f"{W}t" else "\t")
    return "".join(parts)


CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CN_DIGIT = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 21 -> 二十一, 105 -> 一百零五 (as Word's chineseCounting writes them)."""
    if n < 10:
        return CN_DIGIT[n]
    if n < 20:
        return "十" + (CN_DIGIT[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGIT[n // 10] + "十" + (CN_DIGIT[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if not rest else ("零" + chinese_number(rest) if rest < 10 else
                                ("一" + chinese_number(rest) if rest < 20 else chinese_number(rest)))
    return CN_DIGIT[n // 100] + "百" + tail


def _format(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographTraditional",
               "taiwaneseCounting", "japaneseCounting"):
        return chinese_number(n)
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return CIRCLED[n - 1] if 0 < n <= len(CIRCLED) else str(n)
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(n)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalFullWidth":
        return unicodedata.normalize("NFKC", str(n)).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt in ("bullet", "none"):
        return ""
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += letters
            n -= value
    return out


class _Numbering:
    """Word's automatic numbering: counters per list and level, labels from each level's lvlText."""

    def __init__(self, document) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, lvlText, start)
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in root.iter(f"{W}abstractNum"):
            levels = {}
            for lvl in an.iter(f"{W}lvl"):
                fmt = lvl.find(f"{W}numFmt")
                text = lvl.find(f"{W}lvlText")
                start = lvl.find(f"{W}start")
                levels[int(lvl.get(f"{W}ilvl", "0"))] = (
                    fmt.get(f"{W}val") if fmt is not None else "decimal",
                    text.get(f"{W}val") if text is not None else "",
                    int(start.get(f"{W}val")) if start is not None else 1,
                )
            abstract[an.get(f"{W}abstractNumId")] = levels
        for num in root.iter(f"{W}num"):
            ref = num.find(f"{W}abstractNumId")
            if ref is not None:
                self.levels[num.get(f"{W}numId")] = abstract.get(ref.get(f"{W}val"), {})

    def _num_pr(self, p, document) -> tuple[str, int] | None:
        ppr = p.find(f"{W}pPr")
        num_pr = ppr.find(f"{W}numPr") if ppr is not None else None
        if num_pr is None and ppr is not None:  # numbering inherited from the paragraph's style
            style = ppr.find(f"{W}pStyle")
            if style is not None:
                try:
                    st = document.styles.element.get_by_id(style.get(f"{W}val"))
                except (KeyError, AttributeError):
                    st = None
                spr = st.find(f"{W}pPr") if st is not None else None
                num_pr = spr.find(f"{W}numPr") if spr is not None else None
        if num_pr is None:
            return None
        num_id = num_pr.find(f"{W}numId")
        ilvl = num_pr.find(f"{W}ilvl")
        if num_id is None or num_id.get(f"{W}val") == "0":
            return None
        return num_id.get(f"{W}val"), int(ilvl.get(f"{W}val")) if ilvl is not None else 0

    def label(self, p, document) -> str:
        found = self._num_pr(p, document)
        if not found or found[0] not in self.levels:
            return ""
        num_id, ilvl = found
        levels = self.levels[num_id]
        counters = self.counters.setdefault(num_id, [0] * 9)
        for lvl in range(ilvl + 1, 9):
            counters[lvl] = 0
        start = levels.get(ilvl, ("decimal", "", 1))[2]
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else start
        fmt, text, _ = levels.get(ilvl, ("decimal", f"%{ilvl + 1}.", 1))

        def sub(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            lv_fmt = levels.get(k, ("decimal", "", 1))[0]
            return _format(counters[k] or levels.get(k, ("", "", 1))[2], lv_fmt)

        return re.sub(r"%(\d)", sub, text)
