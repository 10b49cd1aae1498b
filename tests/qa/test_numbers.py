from __future__ import annotations

import random
from decimal import Decimal

import pytest

from service.qa.numbers import arabic, chinese_number


@pytest.mark.parametrize(
    ("text", "matching"),
    [
        ("三十年", "30年"),
        ("百分之五", "5%"),
        ("百分之三十", "30%"),
        ("百分之三十五点五", "35.5%"),
        ("百分之5", "5%"),
        ("千分之三", "3‰"),
        ("三分之一", "1/3"),
        ("1.5万", "15000"),
        ("一万五", "15000"),
        ("15000", "15000"),
        ("三十五万亩", "350000亩"),
        ("1329.65亿元", "132965000000元"),
        ("5000万元", "50000000元"),
        ("1.5万亿", "1500000000000"),
        ("第三次", "第3次"),
        ("二〇二三年", "2023年"),
        ("一九九八年", "1998年"),
        ("一百零八", "108"),
        ("三千五", "3500"),
        ("两百多", "200多"),
        ("一点五", "1.5"),
        ("零点五", "0.5"),
        ("二十一世纪", "21世纪"),
        ("两个一百年", "2个100年"),
        ("十分钟", "10分钟"),
        ("九成", "9成"),
        ("黔东南去年地区生产总值是多少", "黔东南去年地区生产总值是多少"),
    ],
)
def test_matching_forms(text, matching):
    assert arabic(text) == matching


@pytest.mark.parametrize(
    "word",
    [
        "一些", "统一", "万一", "一体化", "十分", "三农", "两岸", "一带一路", "六稳六保", "一起", "零售", "清零",
        "一点儿", "零星", "一时", "三位一体",
        "一二线城市", "十四五", "十三五规划", "一五一十", "三三两两", "千万不要", "七上八下", "十几个",
    ],
)  # fmt: skip
def test_words_holding_numeral_characters_stay(word):
    assert arabic(word) == word


def test_same_quantity_written_three_ways_meets():
    assert arabic("耕地1.5万亩") == arabic("耕地一万五千亩") == arabic("耕地15000亩")
    assert arabic("增长百分之六") == arabic("增长6%")


def test_no_number_no_change():
    assert arabic("") == "" and arabic("高标准农田") == "高标准农田"


@pytest.mark.parametrize("text", ["十十", "一五", "百", "万", "三三", "一百十"])
def test_malformed_numerals(text):
    assert chinese_number(text) is None


def test_parser_agrees_with_cn2an():
    cn2an = pytest.importorskip("cn2an")
    rng = random.Random(9)
    numbers = list(range(0, 1200)) + [rng.randrange(10**k) for k in range(3, 13) for _ in range(300)]
    for n in numbers:
        written = cn2an.an2cn(n)
        assert chinese_number(written) == Decimal(n), written
    for text in ["一点五", "三十五点零八", "零点零五"]:
        assert chinese_number(text) == Decimal(str(cn2an.cn2an(text, "strict"))), text
