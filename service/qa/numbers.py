"""Numbers however they are written, rewritten to one form for matching: 三十年 -> 30年, 百分之五 -> 5%.

`arabic(text)` is for MATCHING forms only (apply it to the question and to the passage alike); it
changes lengths, so never use its output for display or offsets. The rules, applied consistently:

- Chinese numerals become Arabic: 三十年 -> 30年, 一百零八 -> 108, 一点五 -> 1.5, 一万二 -> 12000,
  二〇二三年 -> 2023年 (a string of digits only when a year: 一二线 stays).
- 万 and 亿 are multiplied out, in Chinese or Arabic: 1.5万 -> 15000, 三十五万亩 -> 350000亩,
  1329.65亿元 -> 132965000000元, so 1.5万 and 15000 and 一万五 meet.
- 百分之五 -> 5%, 百分之三十五点五 -> 35.5%, 千分之三 -> 3‰, 三分之一 -> 1/3, 第三次 -> 第3次.
- A lone numeral character is rewritten only after 第 or before a measure word (三年, 两个, 十分钟), so
  words that contain one keep it: 一些, 统一, 万一, 一体化, 十分, 三农, 两岸, 一带一路.
- What is not a well-formed number stays as written: 十四五, 一五一十, 三三两两, 千万 (不要).

The numeral grammar is parsed here rather than with cn2an: importing cn2an costs about 100 ms (it
loads its text-cleaning dependency), and its sentence mode rewrites 一些 as 1些. The tests check
this parser against cn2an on thousands of numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
BIG = {"万": 10**4, "亿": 10**8}
CN = "".join(DIGITS) + "".join(UNITS) + "".join(BIG)
DEC = "零〇一二三四五六七八九"

# Measure words after a lone numeral character: the counted things and units of policy text.
# Left out on purpose, for the words they make: 分 (十分), 起 (一起), 块 (一块儿), 时 (一时), 头 (三天两头),
# 位 (三位一体), 星 (零星), 样, 般, 切, 道, 线, 些, 体, 部 (一部分).
MEASURES = sorted(
    "周年 分钟 小时 个月 季度 公里 公顷 平方米 平方公里 千米 公斤 千克 千瓦 年 月 日 天 号 秒 周 岁 个 次 项 条 款 "
    "家 户 人 名 口 亩 米 吨 斤 元 角 倍 成 批 件 台 辆 套 座 所 栋 间 张 本 篇 份 期 届 轮 场 例 只 株 棵 "
    "类 种 级 层 楼 档 章 节 % ‰".split(),
    key=len,
    reverse=True,
)
MEASURE = re.compile("|".join(map(re.escape, MEASURES)))

NUMBER = re.compile(
    rf"(?P<pct>百分之|千分之)(?P<pnum>[{CN}]+(?:点[{DEC}]+)?|\d+(?:\.\d+)?)"
    rf"|(?P<den>[{CN}]+)分之(?P<numr>[{CN}]+(?:点[{DEC}]+)?)"
    rf"|(?<![\d.])(?P<ar>\d+(?:\.\d+)?)(?P<arbig>万亿|亿|万)"
    rf"|(?P<cn>[{CN}]+(?:点[{DEC}]+)?)"
)


def _small(text: str) -> int | None:
    """Parse a numeral below 10000 with 十百千 (三千五百零八, 十五, colloquial 三千五); None if malformed."""
    value, digit, unit, zero = 0, None, 10**4, False
    for i, char in enumerate(text):
        if char in DIGITS:
            if digit is not None:
                return None  # 三三, 一五: two digits in a row is no positional numeral
            if DIGITS[char] == 0:
                zero = True  # 一千零八: 零 only fills a gap
            else:
                digit = DIGITS[char]
            continue
        step = UNITS.get(char)
        if step is None or step >= unit:
            return None
        if digit is None:
            if char != "十" or not (i == 0 or zero):
                return None
            digit = 1  # 十五, 一百零十
        value += digit * step
        digit, unit, zero = None, step, False
    if digit is not None:
        # 三千五 = 3500: a bare digit right after a unit counts one unit lower; after 零 it is units
        value += digit * (unit // 10 if unit < 10**4 and not zero else 1)
    return value


def _integer(text: str) -> int | None:
    """Parse a Chinese integer numeral with 万 and 亿 (三十五万, 一万二, 一千零一); None if malformed."""
    if "亿" in text:
        high, _, low = text.partition("亿")
        high_value, low_value = _integer(high), _integer(low) if low else 0
        if not high or high_value is None or low_value is None:
            return None
        if low and len(low) == 1 and low in DIGITS:
            low_value *= 10**7  # 一亿五 = 150000000
        return high_value * 10**8 + low_value
    if "万" in text:
        high, _, low = text.partition("万")
        high_value, low_value = _small(high), _small(low)
        if not high or high_value is None or low_value is None:
            return None
        if len(low) == 1 and low in DIGITS:
            low_value *= 1000  # 一万二 = 12000
        return high_value * 10**4 + low_value
    return _small(text)


def chinese_number(text: str) -> Decimal | None:
    """Return the value of a whole Chinese numeral (三十五, 一点五, 二〇二三 as digits is not one)."""
    whole, _, fraction = text.partition("点")
    value = _integer(whole)
    if value is None or any(c not in DEC for c in fraction):
        return None
    if fraction:
        return Decimal(f"{value}.{''.join(str(DIGITS[c]) for c in fraction)}")
    return Decimal(value)


def _plain(value: Decimal) -> str:
    """Write a value without exponent or trailing zeros (15000, 1.5, 132965000000)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(text: str) -> Decimal | None:
    """Parse Arabic or Chinese digits."""
    if text[0].isdigit():
        return Decimal(text)
    return chinese_number(text)


def _rewrite(match: re.Match[str]) -> str:
    text = match.string
    if match["pct"]:
        value = _number(match["pnum"])
        return match[0] if value is None else _plain(value) + ("%" if match["pct"] == "百分之" else "‰")
    if match["den"]:
        denominator, numerator = chinese_number(match["den"]), chinese_number(match["numr"])
        if denominator is None or numerator is None:
            return match[0]
        return f"{_plain(numerator)}/{_plain(denominator)}"
    if match["ar"]:
        scale = 10**12 if match["arbig"] == "万亿" else BIG[match["arbig"]]
        return _plain(Decimal(match["ar"]) * scale)
    span = match["cn"]
    if span[0] in UNITS and span[0] != "十" or span[0] in BIG:
        return span  # 千万 (不要), 万一, 百花: no leading digit, no number
    before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 4]
    if all(c in DIGITS for c in span):
        if len(span) > 1:  # digits read one by one: only a year (二〇二三年), never 一二线 or 三三两两
            return "".join(str(DIGITS[c]) for c in span) if after.startswith("年") else span
        if span in "零〇" or before != "第" and not MEASURE.match(after):
            return span  # a lone numeral inside a word: 一些, 统一, 三农, 两岸, 一带一路, 零星
    elif len(span) == 1 and before != "第" and not MEASURE.match(after):
        return span  # 十分
    value = chinese_number(span)
    return span if value is None else _plain(value)


def arabic(text: str) -> str:
    """Rewrite the numbers in text to Arabic digits, for matching only (see the module notes)."""
    return NUMBER.sub(_rewrite, text)
