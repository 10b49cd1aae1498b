"""Numbering schemes recognized in any combination; paths, offsets and ids that survive edits."""
from __future__ import annotations

from service.qa.ingest import ingest
from service.qa.structure import cn_to_int, furniture_or_signature, load_numbering, parse

NOTICE = """关于做好测试工作的通知
测试〔2025〕3号
各区县人民政府，市政府各部门：
为做好测试工作，现将有关事项通知如下。
一、总体要求
（一）工作目标。到2027年，测试覆盖率达到百分之九十。
1.完善制度。建立健全测试制度。
2.加强队伍。一是充实人员；二是加强培训。
（二）基本原则。坚持问题导向，坚持系统观念。
二、重点任务
（一）推进平台建设
建设全市统一的测试平台，实现数据共享。
——坚持统筹推进。各部门按职责分工抓好落实。
（二）强化保障
（1）资金保障。市财政每年安排专项资金。
（2）人员保障。①加强培训；②完善考核。
某市人民政府办公室
2025年2月20日
"""

STANDARD = """测试工作规范
1 总则
1.1 本规范适用于测试工作的组织和实施。
1.2 测试工作应当遵循科学、公正的原则。
2 测试要求
2.1 基本要求
2.1.1 测试人员应当具备相应能力。
2.1.2 测试设备应当定期检定。
"""


def test_official_document_numbering_nests_in_any_combination():
    parsed = parse(NOTICE)
    headings = [(h.number, h.path) for h in parsed.headings]
    assert headings[0] == ("一、", ("一、总体要求",))
    assert ("（一）", ("二、重点任务", "（一）推进平台建设")) in headings
    units = {u.number: u for u in parsed.units if u.number}
    goal = units["（一）"]
    assert goal.path == ("一、总体要求",)
    assert "1.完善制度" in goal.text and "2.加强队伍。一是充实人员" in goal.text  # items stay in their clause
    assert units["——坚持统筹推进"].path == ("二、重点任务", "（一）推进平台建设")
    money = next(u for u in parsed.units if u.number == "（1）")
    assert money.path == ("二、重点任务", "（二）强化保障")
    assert [line.text for line in parsed.signature] == ["某市人民政府办公室", "2025年2月20日"]
    assert not any("2025年2月20日" in u.text for u in parsed.units if u.role not in ("head", "signature"))


def test_standard_decimal_numbering():
    parsed = parse(STANDARD)
    assert [h.label for h in parsed.headings] == ["1 总则", "2 测试要求", "2.1 基本要求"]
    numbered = {u.number: u.path for u in parsed.units if u.number}
    assert numbered["1.1"] == ("1 总则",)
    assert numbered["2.1.2"] == ("2 测试要求", "2.1 基本要求")


def test_offsets_point_at_each_unit_in_the_source():
    parsed = parse(NOTICE)
    for unit in parsed.units:
        for (start, end), text in zip(unit.pieces, unit.texts, strict=True):
            assert "".join(NOTICE[start:end].split()) == "".join(text.split())


def test_schemes_are_data():
    names = [s.name for s in load_numbering().schemes]
    assert names[:4] == ["编", "章", "节", "条"] and "一是" in names and "①" in names
    assert cn_to_int("一百零八") == 108 and cn_to_int("二十一") == 21 and cn_to_int("十二") == 12


def test_furniture_and_signatures_are_recognized_inside_text():
    assert furniture_or_signature("……按规定执行。— 2 — 下一段")
    assert furniture_or_signature("……抓好落实。某市人民政府办公室2025年2月20日印发")
    assert furniture_or_signature("……特此通知。国务院办公厅 2018年12月30日")
    assert not furniture_or_signature("2019年1月1日至12月31日，对面临暂时性生产经营困难的企业给予支持。")


def law(article_two: str) -> str:
    return ("# 某省测试条例\n\n## 第一章 总则\n\n第一条 为了规范测试工作，制定本条例。\n\n"
            f"第二条 {article_two}\n\n第三条 县级以上人民政府负责测试工作。\n\n## 第二章 附则\n\n"
            "第四条 本条例自2025年1月1日起施行。\n")


def ids_of(tmp_path, name, text):
    corpus = tmp_path / name
    (corpus / "raw").mkdir(parents=True)
    (corpus / "raw" / "tiaoli.md").write_text(text, encoding="utf-8")
    return [c.id for c in ingest(corpus).clauses]


def test_editing_one_article_keeps_every_id(tmp_path):
    before = ids_of(tmp_path, "a", law("本条例适用于本省的测试活动。"))
    after = ids_of(tmp_path, "b", law("本条例适用于本省行政区域内的测试活动。\n\n测试活动应当依法进行。"))
    assert before == after == ["tiaoli-a1", "tiaoli-a2", "tiaoli-a3", "tiaoli-a4"]


def test_inserting_a_paragraph_keeps_the_other_paragraph_ids(tmp_path):
    report = "测试工作报告\n各位代表：\n第一段说明了过去一年的工作成效。\n第二段说明了今年的工作安排。\n"
    before = ids_of(tmp_path, "a", report)
    after = ids_of(tmp_path, "b", report.replace("第二段", "新插入的一段说明了新的情况。\n第二段"))
    assert set(before) <= set(after) and len(after) == len(before) + 1


PLAIN_LAW = """中华人民共和国测试法
（2002年8月29日第九届全国人民代表大会常务委员会第二十九次会议通过　\
根据2009年8月27日第十一届全国人民代表大会常务委员会第十次会议《关于修改部分法律的决定》第一次修正）
目　　录
第一章　总　　则
第二章　附　　则
第一章　总　　则
第一条　为了测试，制定本法。
第二条　本法适用于测试。依照本法第一条规定的原则执行。
第二章　附　　则
第三条　本法自2003年3月1日起施行。
"""


def test_plain_text_law_with_its_table_of_contents_and_notes():
    from service.qa.metadata import read_meta

    parsed = parse(PLAIN_LAW)
    assert [(h.label, h.line) for h in parsed.headings] == [("第一章 总 则", 6), ("第二章 附 则", 9)]
    articles = [u for u in parsed.units if u.role == "article"]
    assert [u.number for u in articles] == ["第一条", "第二条", "第三条"]
    meta = read_meta(parsed, {}, PLAIN_LAW)
    assert (meta.title, meta.kind, meta.date, meta.effective, meta.status) == (
        "中华人民共和国测试法", "law", "2009-08-27", "2003-03-01", "修正")
    assert meta.issuer == "全国人民代表大会常务委员会"
