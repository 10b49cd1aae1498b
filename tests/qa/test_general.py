from __future__ import annotations

import pytest

from service.qa.general import general_freq, general_idf, general_pos, median_idf


def test_everyday_words_weigh_little_and_specific_ones_a_lot():
    assert general_idf("时候") < 5 < median_idf()
    assert general_idf("护照") > 9
    assert general_idf("撂荒") > general_idf("耕地") > general_idf("时候")


def test_countries_are_common_words():
    # Why places need the gazetteer: frequency alone does not flag 美国 or 日本.
    assert general_idf("美国") < 6 and general_idf("日本") < 6


def test_median_is_jiebas_default_weight():
    assert 11 < median_idf() < 13


def test_unknown_word():
    assert general_idf("撂荒地复耕补贴") is None
    assert general_freq("撂荒地复耕补贴") is None and general_pos("撂荒地复耕补贴") is None


@pytest.mark.parametrize(("word", "tag"), [("护照", "n"), ("申请", "v"), ("美国", "ns")])
def test_pos(word, tag):
    assert general_pos(word) == tag


def test_frequency_orders_words():
    assert general_freq("的") > general_freq("时候") > general_freq("护照") > 0
