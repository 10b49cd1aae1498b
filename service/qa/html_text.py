"""An HTML page -> the visible text of its article body, one block a line, characters as shown.

lxml parses (it is forgiving with crawled fragments); the body is found by text density as
readability does — the element whose paragraphs hold the most text outside links — so no
selector of one site is needed. Navigation, forms, buttons, scripts and label/value metadata
tables are dropped; the metadata tables are read first (发文机关, 发文字号, 成文日期 …) as hints.
Text is kept as the page shows it (entities decoded, no punctuation changed), so a citation is a
substring of the page's visible text once whitespace is ignored.
"""
from __future__ import annotations

import re
import time

DROP_TAGS = ("script", "style", "noscript", "iframe", "form", "button", "input", "select", "textarea", "nav",
             "header", "footer", "aside", "svg", "canvas", "object", "embed", "template", "menu", "label")
BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "tbody", "section",
              "article", "main", "blockquote", "pre", "dd", "dt", "dl", "br", "hr", "td", "th", "center", "figure",
              "figcaption", "address"}
PARAGRAPH_TAGS = ("p", "li", "td", "div", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "section")
LABEL_RE = re.compile(r"^\s*([\u4e00-\u9fff　 ]{2,8})\s*[：:]\s*$")
HINT_KEYS = {"标题": "title", "发文机关": "issuer", "发文字号": "wenhao", "文号": "wenhao", "成文日期": "date",
             "发布日期": "published", "施行日期": "effective", "生效日期": "effective", "时效性": "status",
             "有效性": "status", "发布机关": "issuer", "制定机关": "issuer"}
NEGATIVE_RE = re.compile(r"nav|menu|footer|header|sidebar|side|comment|share|breadcrumb|banner|related|"
                         r"advert|login|search|toolbar|print|qrcode", re.I)
MIN_PARAGRAPH = 10
XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")


def _canonical_url(root) -> str:
    """The page's own address when it states one (canonical link, og:url), http(s) only."""
    for node in root.iter("link", "meta"):
        rel = (node.get("rel") or "").lower()
        prop = (node.get("property") or node.get("name") or "").lower()
        value = node.get("href") if node.tag == "link" and rel == "canonical" else (
            node.get("content") if prop in ("og:url", "url") else None)
        if value and re.match(r"^https?://[^\s\"'<>]+$", value.strip()):
            return value.strip()
    return ""


def html_text(markup: str, deadline: float | None = None) -> tuple[str, dict[str, str]]:
    """(visible text of the article body, metadata hints read from label/value tables)."""
    import lxml.html
    from lxml import etree

    markup = XML_DECLARATION_RE.sub("", markup, count=1)  # lxml refuses a str that declares an encoding
    if not markup.strip():
        return "", {}
    try:
        root = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return "", {}
    url = _canonical_url(root)
    for node in root.iter(etree.Comment, etree.ProcessingInstruction):
        _remove(node)
    for node in list(root.iter(*DROP_TAGS)):
        _remove(node)
    for node in list(root.iter()):
        if isinstance(node.tag, str) and (node.get("hidden") is not None
                                          or re.search(r"display\s*:\s*none", node.get("style", ""))):
            _remove(node)
    hints, info = _metadata_tables(root)
    if url:
        hints["url"] = url
    if deadline is not None and time.monotonic() > deadline:
        return "", hints
    body = _best_candidate(root)
    title = _page_title(root)
    if title and "title" not in hints:
        hints["title"] = title
    lines = _lines(body)
    # a page title shown above the body (h1 outside the chosen element) is part of what people see
    if title and body is not root and not any(title in line for line in lines[:5]):
        h1 = root.find(".//h1")
        if h1 is not None and h1.text_content().strip() == title:
            lines.insert(0, title)
    lines = info + lines
    return "\n".join(lines) + ("\n" if lines else ""), hints


def _remove(node) -> None:
    """Drop an element but keep the text that follows it (its tail belongs to the parent)."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail
    prev = node.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)


def _text(node) -> str:
    return re.sub(r"\s+", "", node.text_content())


def _metadata_tables(root) -> tuple[dict[str, str], list[str]]:
    """Read and take out tables of 'label：' / value cells (gov.cn's 索引号 / 发文机关 / 成文日期 box).

    Their rows come back as lines, to stand above the body as the document's own notes.
    """
    hints: dict[str, str] = {}
    rows: list[str] = []
    for table in list(root.iter("table")):
        if table.getparent() is None or table.find(".//table") is not None:
            continue
        cells = [c for c in table.iter("td", "th")]
        pairs = 0
        found: dict[str, str] = {}
        for i, cell in enumerate(cells[:-1]):
            m = LABEL_RE.match(cell.text_content())
            if m:
                pairs += 1
                label = re.sub(r"[\s　]+", "", m.group(1))
                value = cells[i + 1].text_content().strip()
                if label in HINT_KEYS and value and not LABEL_RE.match(value):
                    found.setdefault(HINT_KEYS[label], value)
        filled = [c for c in cells if c.text_content().strip()]
        if pairs >= 1 and pairs * 2 >= len(filled) * 0.6:
            for key, value in found.items():
                hints.setdefault(key, value)
            for row in table.iter("tr"):
                cells = [re.sub(r"\s+", " ", c.text_content()).strip() for c in row.iter("td", "th")]
                line = " ".join(c for c in cells if c)
                if line:
                    rows.append(line)
            _remove(table)
    return hints, rows


def _page_title(root) -> str:
    for path in (".//h1", ".//title"):
        node = root.find(path)
        if node is not None:
            text = node.text_content().strip()
            if text and len(text) <= 80:
                return re.split(r"\s*[_|\-–—]{1,2}\s*(?=[^_|\-–—]*$)", text)[0].strip() if path == ".//title" else text
    return ""


def _link_density(node) -> float:
    total = len(_text(node))
    if not total:
        return 1.0
    linked = sum(len(_text(a)) for a in node.iter("a"))
    return linked / total


def _best_candidate(root):
    """The element whose own paragraphs hold the most text outside links (readability's scoring)."""
    scores: dict = {}
    for node in root.iter(*PARAGRAPH_TAGS):
        if any(child.tag in BLOCK_TAGS - {"br"} for child in node if isinstance(child.tag, str)):
            own = (node.text or "") + "".join(
                (c.text_content() if c.tag not in BLOCK_TAGS else "") + (c.tail or "")
                for c in node if isinstance(c.tag, str))
        else:
            own = node.text_content()
        length = len(re.sub(r"\s+", "", own))
        if length < MIN_PARAGRAPH:
            continue
        score = (1 + length / 100 + own.count("，") + own.count("。")) * (1 - _link_density(node))
        parent = node.getparent()
        for k, anc in enumerate((parent, parent.getparent() if parent is not None else None)):
            if anc is None or not isinstance(anc.tag, str):
                continue
            scores[anc] = scores.get(anc, 0.0) + score / (1 + k)
    if not scores:
        return root
    for node in list(scores):
        hint = f"{node.get('class', '')} {node.get('id', '')}"
        if NEGATIVE_RE.search(hint):
            scores[node] *= 0.3
        scores[node] *= 1 - _link_density(node)
    best = max(scores, key=scores.get)
    # a wrapper holding most of the best element's text, plus more body text, reads the whole article
    parent = best.getparent()
    while parent is not None and parent.tag not in ("body", "html") and scores.get(parent, 0) > 0.5 * scores[best]:
        best, parent = parent, parent.getparent()
    return best


def _lines(node) -> list[str]:
    """Visible text with a line break at every block element; whitespace inside a line collapsed."""
    parts: list[str] = []

    def walk(el) -> None:
        if not isinstance(el.tag, str):
            return
        block = el.tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")
        elif el.tag == "td":
            parts.append(" ")

    walk(node)
    text = "".join(parts).replace("\r", "")
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t\u00a0\u3000]+", lambda m: m.group()[:1] if len(m.group()) < 4 else "    ", line)
        if line.strip():
            lines.append(line.strip())
    return lines
