"""Question analysis (query.py with the vocabulary in cues.py): what a question asks, about what, where and when."""
from __future__ import annotations

import pytest

from service.qa import cues
from service.qa.conversation import Turn, resolve_followup


@pytest.fixture(scope="module")
def analyze(engine):
    return engine.analyzer.analyze


def words(query) -> dict[str, float]:
    return {t.word: t.weight for t in query.terms}


@pytest.mark.parametrize(("question", "kind"), [
    ("黔东南今年旅游收入打算做到多少个亿", "quantity"),
    ("冰雪消费季具体哪天开始？", "time"),
    ("农村土地承包法所说的“农村土地”是指什么？", "definition"),
    ("“人工智能+”行动是干嘛的？", "definition"),
    ("老板能不能用购物卡代替工资？", "yesno"),
    ("家里电视收费乱，国家管不管？", "yesno"),
    ("哪几类数码产品有购新补贴？", "measures"),
])
def test_answer_kinds_are_read_from_the_question_words(question, kind):
    assert cues.answer_kind(question) == kind


@pytest.mark.parametrize(("question", "measure"), [
    ("个人养老金每年最多能存多少钱？", "money"),
    ("黔东南去年的社会消费品零售总额是几百亿？", "money"),
    ("有机蓝莓认证面积占全国多少？", "percent"),
    ("全国耕地保有量不低于多少亿亩？", "area"),
    ("审批一个项目平均要几天？", "days"),
    ("失业青年的就业见习时间是多长？", "duration"),
    ("新增规上工业企业多少户？", "户"),
    ("惠及多少万人？", "人"),
])
def test_a_figure_question_names_its_measure(question, measure):
    assert cues.asked_measure(question) == measure


def test_question_words_politeness_and_the_document_reference_weigh_nothing(analyze):
    q = analyze("请问一下，文件里有没有讲耕地保有量目标是多少？")
    assert set(words(q)) <= {"耕地保有量", "耕地", "保有量"}


def test_a_word_common_in_everyday_chinese_and_absent_from_the_corpus_weighs_little(analyze):
    q = analyze("我在城里打工，老家的地撂荒了，国家说要治理撂荒地，怎么摸清底数？")
    w = words(q)
    assert w["撂荒"] > 5 * w["城里"] and w["撂荒"] > 5 * w["打工"]


def test_a_specific_word_absent_from_the_corpus_weighs_a_lot(analyze):
    assert words(analyze("如何申请护照？"))["护照"] >= words(analyze("如何申请护照？"))["申请"]


def test_relative_years_are_kept_to_be_read_against_each_document(analyze):
    q = analyze("黔东南去年地区生产总值是多少？")
    assert q.scope.relative == (("去年", -1),)
    assert "去年" not in words(q)


@pytest.mark.parametrize("word", ["城里", "老家", "寨子里", "厂里"])
def test_everyday_words_that_look_like_places_are_not_places(analyze, word):
    assert not analyze(f"我{word}的事国家管不管？").scope.places


def test_places_come_from_the_gazetteer_and_the_country_is_a_scope(analyze):
    q = analyze("黔东南州2024年地区生产总值增长目标是多少？")
    assert [p.text for p in q.scope.places] == ["黔东南州"] and q.scope.years == ("2024",)
    assert analyze("全国耕地保有量是多少？").scope.national
    assert "州" not in words(q)


def test_a_document_named_in_the_question_is_its_scope(analyze):
    q = analyze("那个耕地保护的意见开头是怎么形容耕地的")
    assert q.scope.documents == frozenset({"gengdi-zhanbu"})
    assert "意见" not in words(q)


def test_a_short_name_that_fits_no_title_names_no_document(analyze):
    assert not analyze("各省要出台实施办法吗？").scope.documents


def test_numerals_match_however_they_are_written(analyze, engine):
    q = analyze("满5年不满10年的能领多久？")
    assert {"5年", "10年"} <= set(words(q))


def test_synonym_groups_expand_and_never_rewrite(analyze):
    term = next(t for t in analyze("GDP增长目标是多少？").terms if t.word == "gdp")
    assert "生产总值" in term.forms and term.forms[0] == "gdp"


def _turn(question, resolved, answered=True):
    return Turn(question=question, resolved=resolved, kind="quantity", answered=answered)


@pytest.mark.parametrize(("previous", "followup", "resolved"), [
    ("黔东南2023年地区生产总值是多少？", "增长了多少？", "黔东南2023年地区生产总值增长了多少"),
    ("黔东南去年引进了多少个重点产业项目？", "那优强企业呢？", "黔东南去年引进了多少个优强企业？"),
    ("黔东南2023年建成高标准农田多少亩？", "2024年呢？", "黔东南2024年建成高标准农田多少亩?"),
    ("千集万店是个啥？", "它还要求加强哪些物流设施建设？", "千集万店还要求加强哪些物流设施建设"),
])
def test_followups_are_resolved_against_the_previous_question(engine, analyze, previous, followup, resolved):
    prev = analyze(previous)
    query = analyze(followup)
    got = resolve_followup(query, _turn(previous, prev.asked), engine.analyzer)
    assert got.rstrip("?？") == resolved.rstrip("?？")


def test_a_question_with_its_own_subject_is_not_a_followup(engine, analyze):
    got = resolve_followup(analyze("GDP是多少？"), _turn("耕地保有量目标是多少？", "耕地保有量目标是多少?"),
                           engine.analyzer)
    assert got == "gdp是多少?"
