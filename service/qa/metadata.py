"""What a document says about itself: title, 文号, issuer, dates, status and kind; and the catalog.

Read from the head (title lines, 文号, adoption and amendment notes), the signature (issuer and
date after the body), the closing articles (本法自…起施行) and format hints (a gov.cn metadata
table, PDF or DOCX properties). A documents.toml entry bound to the file overrides any of them.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import tomllib

from .structure import DATE_RE, Parsed, cn_to_int

KINDS = ("law", "regulation", "policy", "plan", "report", "news")
WENHAO_RE = re.compile(
    r"[\u4e00-\u9fff]{1,12}[〔\[［【(（]\s*\d{4}\s*[〕\]］】)）]\s*第?\s*\d{1,4}\s*号"
    r"|(?:中华人民共和国)?[\u4e00-\u9fff]{0,16}令\s*第\s*[0-9一二三四五六七八九十百零〇]+\s*号"
)
EFFECTIVE_RE = re.compile(rf"自\s*{DATE_RE.pattern}\s*起\s*施行")
ADOPTED_RE = re.compile(rf"^[（(]?{DATE_RE.pattern}.*?(?:通过|公布|发布|修正|修订|印发)")
ISSUER_IN_NOTE_RE = re.compile(r"(全国人民代表大会常务委员会|全国人民代表大会|国务院)|经(.{2,20}?)第.{1,8}次.{0,6}会议")
TITLE_ISSUER_RE = re.compile(r"^(.{2,40}?)关于")
SPEAKER_RE = re.compile(r"^(.{2,20}?(?:人民政府|政府))(?:省长|市长|州长|县长|区长|主席|主任)")
REPEALED_RE = re.compile(r"[（(【\[]?\s*(?:已废止|已失效|失效|废止)\s*[）)】\]]?$")
KIND_BY_TITLE = (
    (re.compile(r"(?<!办)法$|法[（(].*[）)]$"), "law"),
    (re.compile(r"(?:条例|规定|办法|细则|规则)$"), "regulation"),
    (re.compile(r"(?:规划|计划|纲要)$"), "plan"),
    (re.compile(r"报告$"), "report"),
    (re.compile(r"(?:意见|通知|方案|决定|通告|公告|批复|函|措施|指引|指南)$"), "policy"),
)


def iso_date(text: str) -> str:
    """'2018年12月6日' or '2018-12-06' -> '2018-12-06'; '' when it holds no date."""
    m = DATE_RE.search(text)
    if m:
        parts = [cn_to_int(g) if not g.isdigit() else int(g) for g in m.groups()]
        if m.group(1)[0] in "〇零一二三四五六七八九":
            parts[0] = int("".join(str("〇一二三四五六七八九".index(ch) if ch != "零" else 0) for ch in m.group(1)))
        if all(parts):
            return f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}"
    m = re.search(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else ""


def short_title(title: str) -> str:
    """The name people cite: 中华人民共和国农村土地承包法 -> 农村土地承包法."""
    return re.sub(r"^中华人民共和国(?=.{2,}(?:法|条例)$)", "", title)


def kind_of(title: str, articles: int, structured: bool) -> str:
    """law | regulation | plan | report | policy from the title's last word, else from the structure."""
    plain = re.sub(r"[《》\s]", "", title)
    for pattern, kind in KIND_BY_TITLE:
        if pattern.search(plain):
            return kind
    if articles >= 2:
        return "regulation"
    return "policy" if structured else "news"


@dataclass
class Meta:
    title: str = ""
    wenhao: str = ""
    issuer: str = ""
    date: str = ""
    effective: str = ""
    status: str = ""  # 施行 | 修正 | 废止 | ""
    kind: str = ""
    published: str = ""
    found: dict[str, str] = field(default_factory=dict)  # field -> where it was read (for the report)


def read_meta(parsed: Parsed, hints: dict[str, str], text: str) -> Meta:
    """Everything the document states about itself."""
    meta = Meta()
    head = [re.sub(r"\s+", " ", line.text).strip() for line in parsed.head]
    title = "".join(re.sub(r"\s+", "", line.text) for line in parsed.title_lines) or hints.get("title", "")
    meta.title = hints.get("title") or title
    meta.found["title"] = "format" if hints.get("title") else ("head" if title else "")
    head_text = "\n".join(head)
    m = WENHAO_RE.search(head_text)
    if hints.get("wenhao"):
        meta.wenhao = hints["wenhao"]
    elif m:
        meta.wenhao = re.sub(r"\s+", "", m.group())
    # issuer: format hint, signature, adoption notes, speaker line, the title's "X关于"
    sig = [re.sub(r"\s+", "", line.text) for line in parsed.signature]
    sig_org = next((s for s in sig if not DATE_RE.search(s) and not s.startswith(("（", "("))), "")
    note_issuer = ""
    for line in head:
        n = ISSUER_IN_NOTE_RE.search(line)
        if n:
            note_issuer = n.group(1) or n.group(2)
            break
    speaker = next((SPEAKER_RE.match(line.replace(" ", "")).group(1) for line in head
                    if SPEAKER_RE.match(line.replace(" ", ""))), "")
    t = TITLE_ISSUER_RE.match(meta.title)
    meta.issuer = hints.get("issuer") or sig_org or note_issuer or speaker or (t.group(1) if t else "")
    # date: hint (成文日期), the signature, the latest adoption/amendment note, a dated head line
    sig_date = next((iso_date(s) for s in sig if iso_date(s)), "")
    # adoption and amendment notes, one a line or all in one parenthesis: the latest date is the text's date
    notes = [iso_date(m.group()) for line in head if ADOPTED_RE.match(line.replace(" ", ""))
             for m in DATE_RE.finditer(line) if iso_date(m.group())]
    head_dates = [iso_date(line) for line in head if iso_date(line)]
    meta.date = iso_date(hints.get("date", "")) or sig_date or (max(notes) if notes else "") or (
        head_dates[0] if head_dates else "")
    meta.published = iso_date(hints.get("published", ""))
    eff = EFFECTIVE_RE.search(text[-3000:]) or EFFECTIVE_RE.search(text)
    meta.effective = iso_date(hints.get("effective", "")) or (iso_date(eff.group()) if eff else "")
    if any(REPEALED_RE.search(line) for line in head) or "废止" in hints.get("status", "") \
            or "失效" in hints.get("status", ""):
        meta.status = "废止"
    elif any(("修正" in line or "修订" in line) and ADOPTED_RE.match(line.replace(" ", "")) for line in head):
        meta.status = "修正"
    elif meta.effective or re.search(r"自.{0,12}之日起施行", text[-3000:]):
        meta.status = "施行"
    meta.kind = kind_of(meta.title, parsed.articles, bool(parsed.headings or parsed.articles))
    return meta


# ---- the catalog -----------------------------------------------------------------------------------
CATALOG_FIELDS = ("id", "file", "title", "aliases", "issuer", "date", "kind", "wenhao", "scope", "status", "url",
                  "effective")


@dataclass(frozen=True)
class Entry:
    """One [[document]] of documents.toml; `file` binds it to a source, else it is found by its title."""

    id: str
    title: str
    aliases: tuple[str, ...] = ()
    issuer: str = ""
    date: str = ""
    kind: str = ""
    file: str = ""
    wenhao: str = ""
    scope: tuple[str, ...] = ()
    status: str = ""
    url: str = ""
    effective: str = ""
    line: int = 0  # where the entry starts in documents.toml, for messages

    @cached_property
    def folded_titles(self) -> tuple[str, ...]:
        """Title and aliases in matching form (no brackets or quotes, NFKC, no spaces)."""
        from .ingest import _fold_title

        return tuple(_fold_title(t) for t in (self.title, *self.aliases) if t)


class CatalogError(ValueError):
    """documents.toml is not valid, at `line` (0: unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def load_catalog(path: Path, problems: list[tuple[int, str]] | None = None) -> list[Entry]:
    """Read documents.toml (missing: an empty catalog).

    A file that is not TOML raises CatalogError; a bad entry is reported in `problems` as (line,
    message) and the rest of the catalog still loads: one wrong field must not turn every document
    into news. Unknown fields are reported and ignored; an entry with an invalid kind or url is skipped.
    """
    if not path.is_file():
        return []
    raw = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+)", str(exc))  # tomllib names the line only in its message
        raise CatalogError(int(where.group(1)) if where else 0, str(exc)) from None
    problems = problems if problems is not None else []
    starts = [i for i, line in enumerate(raw.splitlines(), 1) if line.strip() == "[[document]]"]
    entries = []
    for k, d in enumerate(data.get("document", [])):
        line = starts[k] if k < len(starts) else 0
        unknown = set(d) - set(CATALOG_FIELDS)
        if unknown:
            problems.append((line, f"unknown field(s) {', '.join(sorted(unknown))} (ignored)"))
        kind = d.get("kind", "")
        error = ("an entry needs an id or a file" if not d.get("id") and not d.get("file") else
                 "url must be an http(s) address" if d.get("url") and not re.match(r"^https?://[^\s\"'<>]+$",
                                                                                   str(d["url"])) else
                 f"kind {kind!r} is not one of {', '.join(KINDS)}" if kind and kind not in KINDS else "")
        if error:
            problems.append((line, error + " (entry skipped)"))
            continue
        entries.append(Entry(
            id=d.get("id") or doc_id_for(d["file"], d.get("title", "")), title=d.get("title", ""),
            aliases=tuple(d.get("aliases", ())), issuer=d.get("issuer", ""), date=str(d.get("date", "")),
            kind=kind, file=d.get("file", ""), wenhao=d.get("wenhao", ""), scope=tuple(d.get("scope", ())),
            status=d.get("status", ""), url=d.get("url", ""), effective=str(d.get("effective", "")), line=line,
        ))
    return entries


def doc_id_for(file_name: str, title: str = "") -> str:
    """A stable id from a file name (ASCII part), else from a hash of the name."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if len(slug) >= 3:
        return slug[:60]
    return "doc-" + hashlib.sha1((file_name or title).encode("utf-8")).hexdigest()[:10]


def apply_entry(meta: Meta, entry: Entry | None) -> Meta:
    """The catalog's word over what the document says, field by field."""
    if entry is None:
        return meta
    for name in ("title", "issuer", "date", "kind", "wenhao", "status", "effective"):
        value = getattr(entry, name)
        if value:
            setattr(meta, name, value)
            meta.found[name] = "catalog"
    return meta
