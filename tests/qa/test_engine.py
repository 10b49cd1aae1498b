"""Each answer kind, refusals, conflicts and follow-ups through the real engine."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.qa.cues import answer_kind
from service.qa.ingest import fold
from service.qa.reader import responsible_body

ROOT = Path(__file__).resolve().parents[2]


def ask(engine, *questions):
    conversation = None
    for q in questions:
        answer = engine.ask(q, conversation)
        conversation = answer.conversation_id
    return answer


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("耕地保有量目标是多少？", "quantity"),
        ("多久开展一次耕地质量综合评价？", "time"),
        ("管理办法由哪个部门制定？", "who"),
        ("哪几类数码产品有购新补贴？", "measures"),
        ("如何推动冰雪消费？", "measures"),
        ("什么是以补定占？", "definition"),
        ("可以在生态保护红线内开垦耕地吗？", "yesno"),
        ("耕地保护", "general"),
    ],
)
def test_answer_kind(question, kind):
    assert answer_kind(question) == kind


def test_quantity(engine):
    a = ask(engine, "耕地保有量目标是多少？")
    assert a.answered and a.kind == "quantity"
    assert "全国耕地保有量不低于18.65亿亩" in a.text
    assert a.citations[0].section == "一、总体要求"
    assert "中共中央办公厅 国务院办公厅关于加强耕地保护" in a.text  # names its document


def test_time(engine):
    a = ask(engine, "多久开展一次耕地质量综合评价？")
    assert a.kind == "time" and "每5年开展耕地质量综合评价" in a.text


def test_who(engine):
    a = ask(engine, "永久基本农田保护红线管理办法由哪个部门制定？")
    assert a.kind == "who" and a.text.startswith("自然资源部")


def test_responsible_body_does_not_span_verbs():
    assert responsible_body("国家每年对省级党委和政府落实耕地保护情况进行考核") == "省级党委和政府"
    assert responsible_body("近日，中共中央办公厅、国务院办公厅印发《方案》") == "中共中央办公厅、国务院办公厅"


def test_measures_after_a_clause_title(engine):
    a = ask(engine, "如何推动冰雪消费？")
    assert a.kind == "measures" and "冰雪旅游提升计划" in a.text
    assert "（十二）推动冰雪消费。" not in a.text


def test_definition(engine):
    a = ask(engine, "什么是以补定占？")
    assert a.kind == "definition" and "下年度非农建设允许占用耕地规模上限" in a.text


def test_yesno(engine):
    a = ask(engine, "可以在生态保护红线内新开垦耕地吗？")
    assert a.answered and a.kind == "yesno"
    assert a.text.startswith("不可以") and "禁止新开垦耕地" in a.text


def test_outline_from_section_headings(engine):
    a = ask(engine, "提振消费专项行动包括哪些行动？")
    assert a.kind == "outline" and "城乡居民增收促进行动" in a.text and "消费环境改善提升行动" in a.text
    assert all(c.text == c.section for c in a.citations)


def test_general_and_help(engine):
    assert ask(engine, "你好").kind == "help"
    assert ask(engine, "你能做什么？").text == engine.help_text


@pytest.mark.parametrize(
    "question",
    ["日本的耕地保有量是多少？", "黔东南州2028年粮食产量目标是多少？", "今天天气怎么样？", "量子计算机的原理是什么？",
     "2019年黔东南州地区生产总值是多少？"],
)
def test_refusals(engine, question):
    a = ask(engine, question)
    assert not a.answered and a.kind == "refusal" and a.text.startswith("抱歉，")


def test_refusal_may_offer_related_passages_only_as_related(engine):
    a = ask(engine, "日本的耕地保有量是多少？")
    assert a.text.startswith("抱歉，现有文件没有提到日本")  # no clause text presented as the answer


def test_a_target_and_an_achieved_figure_are_not_a_conflict(engine):
    # the report plans 5.64万 new urban jobs for 2024; a news story reports the 5.7万 achieved in 2024
    a = ask(engine, "黔东南2024年城镇新增就业目标是多少？")
    assert a.answered and not a.text.startswith("不同文件的说法不同")
    assert "5.64万人" in a.text and "5.7万" not in a.text
    assert a.citations[0].doc_id == "qdn-zhengfu-baogao-2024"


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        (["耕地保有量目标是多少？", "那永久基本农田呢？"], "15.46亿亩"),
        (["黔东南2023年地区生产总值是多少？", "增长了多少？"], "4%"),
        (["2023年黔东南州农村自来水普及率是多少？", "2024年的呢？"], "92%"),
        (["黔东南2024年地区生产总值增长目标是多少？", "规模以上工业增加值呢？"], "8%"),
    ],
)
def test_followups(engine, turns, expected):
    a = ask(engine, *turns)
    assert a.answered and expected in a.text and a.turn == len(turns)


def test_followup_needs_the_conversation(engine):
    a = ask(engine, "那永久基本农田呢？")  # a new conversation has nothing to resolve against
    assert a.turn == 1 and a.resolved_question == "那永久基本农田呢?"


def test_same_question_same_answer(engine):
    a, b = ask(engine, "哪几类数码产品有购新补贴？"), ask(engine, "哪几类数码产品有购新补贴？")
    assert a.text == b.text and [c.clause_id for c in a.citations] == [c.clause_id for c in b.citations]


def test_citations_quote_the_corpus_exactly(engine):
    corpus = [fold(p.read_text(encoding="utf-8")) for p in (ROOT / "corpus" / "raw").glob("*.txt")]
    for q in ("耕地保有量目标是多少？", "如何推动冰雪消费？", "2023年黔东南州地区生产总值是多少？"):
        for c in ask(engine, q).citations:
            assert any(fold(c.text) in doc for doc in corpus)
            assert fold(c.sentence) in fold(c.text)


def test_answers_state_only_cited_text(engine):
    a = ask(engine, "耕地保有量目标是多少？")
    fact = re.search(r"，(.+)。$", a.text).group(1)
    assert fold(fact) in fold(a.citations[0].text)


def test_an_answer_from_a_repealed_document_says_so(engine, tmp_path):
    import shutil

    from service.qa.engine import QAEngine

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "raw" / "old-rules.md").write_text(
        "# 城市路灯维护办法\n\n（本办法已于2020年1月1日废止）\n\n"
        "第一条 城市路灯由市政管理部门负责维护。\n\n第二条 路灯故障应当在48小时内修复。\n", encoding="utf-8")
    repealed = QAEngine(corpus, ROOT / "prompts", lexicon=engine.lexicon)
    a = repealed.ask("城市路灯故障多长时间内要修复？")
    assert a.answered and "48小时" in a.text
    assert a.text.endswith("已废止）") and len(a.text) <= 300
