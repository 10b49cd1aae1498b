from __future__ import annotations

from pathlib import Path

import pytest

from service.qa.ingest import clean, fold, ingest, read_lines, similarity, split_fragments

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "corpus" / "raw"
OPINION = "gengdi-zhanbu"
PLAN = "tizhen-xiaofei"
REPORT = "qdn-zhengfu-baogao-2024"
# Words of the other stories printed on the same pages; none may leak into a policy clause.
NEWS_MARKERS = ("新华社", "上接", "嫦娥", "三门峡", "辽洽会", "民政部部长", "岚图", "残联", "宣讲团")


@pytest.fixture(scope="module")
def report():
    return ingest(ROOT / "corpus")


def clauses_of(report, doc_id):
    return [c for c in report.clauses if c.doc_id == doc_id]


def test_catalog_documents_found_with_their_sources(report):
    docs = {d.id: d for d in report.documents}
    assert {OPINION, PLAN, REPORT} <= set(docs)
    assert len(docs[OPINION].sources) == 3  # printed on three pages
    assert docs[PLAN].sources == ("corpus/raw/001_062c6afab3737c99.txt",)
    assert docs[REPORT].kind == "report"


@pytest.mark.parametrize(("doc_id", "numbered"), [(OPINION, 21), (PLAN, 30)])
def test_policy_clause_counts(report, doc_id, numbered):
    clauses = clauses_of(report, doc_id)
    numbers = [c.number for c in clauses if c.number.startswith("（")]
    assert len(numbers) == numbered
    assert len(set(numbers)) == numbered  # every clause once, duplicates merged


def test_opinion_structure(report):
    clauses = clauses_of(report, OPINION)
    sections = list(dict.fromkeys(c.section for c in clauses))
    assert sections == [
        "引言", "一、总体要求", "二、全面压实耕地保护责任", "三、全力提升耕地质量", "四、改革完善耕地占补平衡制度",
        "五、调动农民和地方保护耕地、种粮抓粮积极性", "六、积极开发各类非传统耕地资源", "七、强化保障措施",
    ]
    dashes = [c.number for c in clauses if c.number.startswith("——")]
    assert dashes == ["——坚持量质并重", "——坚持严格执法", "——坚持系统推进", "——坚持永续利用"]
    goal = next(c for c in clauses if c.text.startswith("主要目标是"))
    assert "全国耕地保有量不低于18.65亿亩" in goal.text
    assert goal.section == "一、总体要求"


def test_report_paragraphs_carry_their_clause(report):
    clauses = clauses_of(report, REPORT)
    invest = next(c for c in clauses if c.text.startswith("不断激发消费潜力"))
    assert invest.number == "（一）" and invest.section == "二、2024年工作安排"
    assert not any("政府工作报告" in c.text[:10] for c in clauses)  # the spaced-out title is not a passage


@pytest.mark.parametrize("doc_id", [OPINION, PLAN, REPORT])
def test_no_news_inside_policy_clauses(report, doc_id):
    for clause in clauses_of(report, doc_id):
        if clause.section == "引言" and doc_id == PLAN:
            continue  # the plan's lead paragraph is the Xinhua note that publishes it
        assert not any(m in clause.text for m in NEWS_MARKERS), (clause.id, clause.text[:40])


def test_ocr_spacing_and_column_breaks_joined(report):
    texts = "".join(c.text for c in clauses_of(report, OPINION))
    assert "（十一）改革占补平衡管理方式" in texts
    assert "非农建设要按规定缴纳耕地开垦费" in texts
    assert " " not in texts and "\n" not in texts


def test_latin_words_keep_their_space():
    assert clean("China  Travel 话题 火 爆") == "China Travel话题火爆"


def test_offsets_point_at_the_clause_text(report):
    for clause in report.clauses:
        for span in (clause.span, *clause.alternates):
            raw = (ROOT / span.source).read_text(encoding="utf-8")[span.start : span.end]
            if span is clause.span:
                assert clean(raw) == clause.text, clause.id
            elif clause.number.startswith("（"):  # one clause number in one document is one clause
                assert fold(clean(raw)).startswith(fold(clause.number)), clause.id
            else:
                assert similarity(clean(raw), clause.text) >= 0.5, clause.id


def test_duplicates_merged_with_alternate_sources(report):
    clauses = clauses_of(report, OPINION)
    assert all(c.source.endswith("000_a341481662d714f7.txt") for c in clauses)  # most complete copy
    with_alts = [c for c in clauses if c.number.startswith("（")]
    assert all(len(c.alternates) == 2 for c in with_alts)
    assert {a.source for c in with_alts for a in c.alternates} == {
        "corpus/raw/003_8251f8b8a7e3f476.txt", "corpus/raw/004_801e1c0ba3d2f08c.txt",
    }
    assert report.merged[OPINION] >= 50


def test_news_split_off_as_their_own_documents(report):
    news = [d for d in report.documents if d.kind == "news"]
    titles = {d.title for d in news}
    assert "探索浩瀚宇宙，建设航天强国" in titles  # headline printed above its continuation marker
    assert any("民政部有关负责人回应热点问题" in t for t in titles)
    assert all(report.news_fragments[s] >= 1 for s in report.news_fragments if "002_" not in s)
    fact = [c for c in report.clauses if "60岁及以上老年人口达2.97亿" in c.text]
    assert fact and fact[0].kind == "news"


@pytest.mark.parametrize("name", sorted(p.name for p in RAW.glob("*.txt")))
def test_every_seed_file_splits_into_fragments(name):
    lines = read_lines((RAW / name).read_text(encoding="utf-8"))
    fragments = split_fragments(lines)
    assert fragments
    assert sum(len(f.lines) for f in fragments) <= len(lines)
