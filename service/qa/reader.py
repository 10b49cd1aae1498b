"""Question kind -> answering sentence -> fact span -> template -> Answer text.

Every fact an answer states is a span copied from the passage it cites; the code only
chooses which span and which template, never rewrites corpus text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import cues
from .ingest import fold
from .templates import Templates

MAX_ANSWER = 300

# A figure: digits, or a Chinese numeral with its measure word (四级, 三类, 两倍); a lone 一
# before a measure word is an article (一项制度, 一个主体), not a figure.
NUMBER_RE = re.compile(
    r"\d|百分之|(?:[二三四五六七八九十两百千半]|一[十百千万])[一二三四五六七八九十百千万亿]*"
    r"[级个项类种条倍成年月天日次元万亿周岁人户家]")
# An item of a list that a sentence ending in "：" introduces: （一） (1) 1. ①
ITEM_START_RE = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]|[①-⑳])")
TIME_RE = re.compile(
    r"每\s*\d*\s*[年月季]|\d{4}\s*年|\d+\s*月|年度|[一二三四五六七八九十\d]+年内|之前|以前|期间"
    r"|[一二三四五六七八九十半\d]+个?(?:小时|工作日|[年月日天周])|起施行|之日起")
PERMISSION_RE = re.compile(r"可以|能否|能不能|可不可以|允许|准许|能")
NEGATION_RE = re.compile(r"禁止|不得|严禁|不作为|不允许|不能|不予|不准")
ALLOW_RE = re.compile(r"可以|允许|准许|支持|鼓励|有权")
HAS_RE = re.compile(r"有没有|是否有|有无|有.{0,8}吗")
# An organisation name: a run of name characters (no verbs or prepositions that would
# join two phrases, such as 对/每/要) ending in an organisation suffix.
ORG_RE = re.compile(
    r"[^\W对每要将由在向为把被从等了的和与及或是会同]{0,12}?"
    r"(?:党委和政府|办公厅|委员会|人民政府|政府|部|委|局|署|总局|银行|厅|院|联合会)"
)
NOT_ORG = ("全部", "内部", "局部", "干部", "部分", "外部", "各部", "有关部", "等部", "学院", "医院", "法院")
SENTENCE_RE = re.compile(r"[^。！？!?；;]*[。！？!?；;]?")
# A figure as printed: digits (with a decimal part, a percent sign) or a Chinese numeral run.
FIGURE_RE = re.compile(r"\d+(?:\.\d+)?\s*[%％]?|[一二三四五六七八九十两百千半]{2,}|[二三四五六七八九十两百千半]")
PIECE_RE = re.compile(r"[^，,：:；;。！？!?]*[，,：:；;。！？!?]?")


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; a sentence keeps its closing punctuation."""
    out = []
    for m in SENTENCE_RE.finditer(text):
        if m.group().strip():
            out.append((m.start(), m.group()))
    return out


def pieces(sentence: str, split_lists: bool) -> list[str]:
    """Comma-level pieces of a sentence; with split_lists, '、' between two figures too."""
    parts = [m.group() for m in PIECE_RE.finditer(sentence) if m.group()]
    if not split_lists:
        return parts
    out: list[str] = []
    for part in parts:
        if "分别" in part:  # "分别增长4%和8.3%": the figures belong to the items before them
            out.append(part)
            continue
        chunks = part.split("、")
        buf = chunks[0]
        for chunk in chunks[1:]:
            if NUMBER_RE.search(buf) and NUMBER_RE.search(chunk):
                out.append(buf + "、")
                buf = chunk
            else:
                buf += "、" + chunk
        out.append(buf)
    return out


@dataclass(frozen=True)
class Fact:
    text: str  # a contiguous span of the sentence, closing punctuation trimmed
    sentence: str
    coverage: float


def best_window(parts: list[str], cover, need_number: bool, max_parts: int = 4,
                need=None) -> tuple[int, int, float]:
    """The shortest run of pieces with the most query coverage (and a figure, when one is asked for)."""
    best = (0, 1, -1.0, 10**9)
    for i in range(len(parts)):
        if i and _continues_list(parts[i - 1], parts[i]):
            continue  # a window never starts inside a list ("分别", "、")
        for j in range(i + 1, min(len(parts), i + max_parts) + 1):
            if j < len(parts) and _continues_list(parts[j - 1], parts[j]):
                continue  # nor ends inside one
            text = "".join(parts[i:j])
            if need_number and not NUMBER_RE.search(text):
                continue
            if need is not None and not need(text):
                continue
            c = cover(text)
            # more coverage first; then shorter
            if c > best[2] + 1e-9 or (abs(c - best[2]) <= 1e-9 and len(text) < best[3]):
                best = (i, j, c, len(text))
    return best[0], best[1], best[2]


def _continues_list(before: str, after: str) -> bool:
    """True where cutting between two pieces would cut a list: after "、", or before "分别…" is closed."""
    return before.endswith("、") or ("分别" in after and not before.endswith(("。", "；", ";")))


def trim(text: str) -> str:
    return text.strip().rstrip("，,：:；;。！？!?、")


def extract_fact(sentence: str, kind: str, cover, next_sentences: str = "", need=None) -> Fact:
    """Choose the span of the answering sentence that states what the question asks."""
    if kind == "quantity":
        parts = pieces(sentence, split_lists=True)
        lead = ""
        if len(parts) > 1 and parts[0].endswith(("：", ":")):
            # "主要目标是：" governs every figure after it; it is context, not the fact
            lead, parts = parts[0], parts[1:]
        i, j, c = best_window(parts, lambda t: cover(lead + t), need_number=True, need=need)
        if c < 0 and need is not None:  # no figure of the measure asked: any figure
            i, j, c = best_window(parts, lambda t: cover(lead + t), need_number=True)
        if c < 0:  # no figure in the sentence: fall back to the best plain window
            i, j, c = best_window(parts, lambda t: cover(lead + t), need_number=False)
        return Fact(trim("".join(parts[i:j])), sentence, max(c, 0.0))
    if kind == "time":
        parts = pieces(sentence, split_lists=False)
        i, j, c = best_window(parts, lambda t: cover(t) + (0.5 if TIME_RE.search(t) else 0.0), False)
        return Fact(trim("".join(parts[i:j])), sentence, cover("".join(parts[i:j])))
    if kind == "definition":
        parts = pieces(sentence, split_lists=False)
        i, _, _ = best_window(parts, cover, False, max_parts=1)
        text = "".join(parts[i:])
        if len(text) > 160:
            text = "".join(parts[i : i + 3])
        return Fact(trim(text), sentence, cover(text))
    # who, measures, yesno, general: the sentence when short, else its best window
    text = sentence
    if "：" in sentence or ":" in sentence:
        # "有下列情形之一的：（一）…；（二）…": the items are the answer, all of them
        items = [m.group() for m in SENTENCE_RE.finditer(next_sentences) if m.group().strip()]
        for item in items:
            if not ITEM_START_RE.match(item):
                break
            text += item
        if text != sentence:
            return Fact(trim(text), sentence, cover(text))
    if len(trim(text)) <= 12 and next_sentences:  # a clause heading: its measures follow
        text = "".join(m.group() for m in list(SENTENCE_RE.finditer(next_sentences))[:2])
    if len(text) > 150:
        parts = pieces(text, split_lists=False)
        i, j, _ = best_window(parts, cover, False, max_parts=3)
        text = "".join(parts[i:j])
    return Fact(trim(text), sentence, cover(text))


def responsible_body(text: str) -> str:
    """The organisations a sentence names first, joined as printed ("自然资源部会同农业农村部")."""
    found = []
    for m in ORG_RE.finditer(text):
        name = m.group()
        if len(name) < 3 or name.endswith(NOT_ORG) or any(name.startswith(p) for p in ("各", "有关", "等")):
            continue
        found.append(m)
        if len(found) == 3:
            break
    if not found:
        return ""
    first, last = found[0], found[0]
    for m in found[1:]:
        gap = text[last.end() : m.start()]
        if len(gap) <= 4:
            last = m
    span = text[first.start() : last.end()]
    return span.replace("要", "").strip("，、")


def verdict(question: str, fact: str) -> str:
    """The opening a yes/no answer can support from its passage alone.

    '不可以。' where a question asks leave and the rule plainly forbids, '可以。' where it plainly allows;
    '有。' where it asks whether the documents say something and the passage says it; otherwise no
    verdict, the passage speaks for itself (never a bare 是 it does not state)."""
    if PERMISSION_RE.search(question):
        if NEGATION_RE.search(fact):
            return "不可以。"
        if ALLOW_RE.search(fact):
            return "可以。"
    if HAS_RE.search(question) and not NEGATION_RE.search(fact):
        return "有。"
    return ""


def fit(templates: Templates, kind: str, fact: str, slot: str = "fact", **values: str) -> str:
    """Render a template, shortening its long slot at a piece boundary to keep within MAX_ANSWER."""
    budget = MAX_ANSWER - templates.overhead(kind, slot, **values)
    return templates.render(kind, **{slot: shorten(fact, budget)}, **values)


def shorten(text: str, budget: int) -> str:
    """The text within `budget` characters, cut at a piece boundary and marked "……" when it must be cut."""
    if len(text) <= budget:
        return text
    cut = text[: max(budget - 2, 0)]
    stop = max(cut.rfind(p) for p in "，；、")
    return (cut[:stop] if stop > budget // 2 else cut) + "……"


def states_measure(text: str, measure: str | None) -> bool:
    """True when a figure in the text is of the measure asked ("多少钱" needs 元, "几家" needs 家)."""
    if not measure:
        return bool(NUMBER_RE.search(text))
    unit = cues.MEASURE_UNITS.get(measure)
    for m in FIGURE_RE.finditer(text):
        after = text[m.end() : m.end() + 4]
        if unit is not None:
            if unit.match(after) or unit.match(after[1:]) or (measure == "percent" and "%" in fold(m.group())):
                return True
        elif re.match(rf"[万亿]?[多余]?[^\d，,。；;、的是和与及]{{0,6}}?{measure}", text[m.end() : m.end() + 10]):
            return True  # 41户, 1191万困难残疾人
    return False
