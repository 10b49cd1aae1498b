"""`policy-qa ingest --check`: silent on the shipped corpus, loud (file and line) on each broken case."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.cli import main

ROOT = Path(__file__).resolve().parents[2]
LAW = """# 某省测试条例

## 第一章 总则

第一条 为了规范测试工作，制定本条例。

第二条 本条例适用于本省行政区域内的测试活动。

第三条 县级以上人民政府负责本行政区域内的测试工作。
"""


def run_check(corpus: Path, capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.setenv("POLICY_QA_CORPUS_DIR", str(corpus))
    status = main(["ingest", "--check"])
    return status, capsys.readouterr().out


def make_corpus(tmp_path: Path, files: dict[str, str], catalog: str = "") -> Path:
    (tmp_path / "raw").mkdir()
    for name, text in files.items():
        (tmp_path / "raw" / name).write_text(text, encoding="utf-8")
    (tmp_path / "documents.toml").write_text(catalog, encoding="utf-8")
    return tmp_path


def test_shipped_corpus_passes(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    status, out = run_check(corpus, capsys, monkeypatch)
    assert status == 0, out
    assert " 0 errors" in out and "printings merged" in out  # the opinion printed on three pages


def test_a_clean_document_passes(tmp_path, capsys, monkeypatch):
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": LAW}), capsys, monkeypatch)
    assert status == 0, out
    assert "[regulation] 《某省测试条例》" in out


def test_catalog_entry_matching_nothing_names_its_line(tmp_path, capsys, monkeypatch):
    catalog = '# catalog\n\n[[document]]\nid = "ghost"\ntitle = "关于从未印出的文件的通知"\nkind = "policy"\n'
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": LAW}, catalog), capsys, monkeypatch)
    assert status == 1
    assert "documents.toml:3: error: catalog entry 'ghost'" in out and "matched nothing" in out


def test_catalog_entry_naming_a_missing_file(tmp_path, capsys, monkeypatch):
    catalog = '[[document]]\nfile = "absent.pdf"\ntitle = "某文件"\n'
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": LAW}, catalog), capsys, monkeypatch)
    assert status == 1 and "documents.toml:1: error:" in out and "'absent.pdf', which is not in raw/" in out


def test_policy_demoted_to_news(tmp_path, capsys, monkeypatch):
    page = ("关于加强测试工作的意见\n\n"
            "近日，有关部门印发意见，要求各地加强测试工作，做好组织保障。\n"
            "意见指出，要坚持问题导向，推动测试工作走深走实。\n")
    catalog = '[[document]]\nid = "ceshi"\ntitle = "关于加强测试工作的意见"\nkind = "policy"\n'
    status, out = run_check(make_corpus(tmp_path, {"page.txt": page}, catalog), capsys, monkeypatch)
    assert status == 1
    assert "corpus/raw/page.txt:1: error:" in out and "demoted to news" in out


def test_policy_bound_by_file_without_structure(tmp_path, capsys, monkeypatch):
    text = "某某通知\n\n这是一段没有任何编号的文字，只说明了一件事情。\n"
    catalog = '[[document]]\nfile = "tongzhi.txt"\nkind = "policy"\n'
    status, out = run_check(make_corpus(tmp_path, {"tongzhi.txt": text}, catalog), capsys, monkeypatch)
    assert status == 1 and "corpus/raw/tongzhi.txt:1: error: catalog says policy" in out


def test_unit_over_1500_characters(tmp_path, capsys, monkeypatch):
    long = LAW.replace("第三条 县级以上", "第三条 " + "测试工作应当依法进行，" * 160 + "县级以上")
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": long}, ""), capsys, monkeypatch)
    assert status == 1
    assert "corpus/raw/tiaoli.md:9: error: unit tiaoli-a3 has" in out and "over 1500" in out


def test_page_number_inside_a_unit(tmp_path, capsys, monkeypatch):
    broken = LAW.replace("适用于本省", "适用于本 — 2 — 省")
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": broken}), capsys, monkeypatch)
    assert status == 1
    assert "corpus/raw/tiaoli.md:7: error: unit tiaoli-a2 holds page furniture" in out and "— 2 —" in out


def test_print_line_inside_a_unit(tmp_path, capsys, monkeypatch):
    broken = LAW.replace("的测试活动。", "的测试活动。某省人民政府办公厅2025年2月20日印发")
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": broken}), capsys, monkeypatch)
    assert status == 1 and "tiaoli.md:7: error: unit tiaoli-a2 holds page furniture" in out and "印发" in out


def test_signature_inside_a_unit(tmp_path, capsys, monkeypatch):
    broken = LAW.replace("测试工作。\n", "测试工作。某省人民政府 2025年2月20日\n")
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": broken}), capsys, monkeypatch)
    assert status == 1 and "tiaoli.md:9: error: unit tiaoli-a3 holds page furniture or a signature" in out


def test_two_different_documents_would_merge(tmp_path, capsys, monkeypatch):
    other = LAW.replace("某省测试条例", "某市另一条例")
    catalog = ('[[document]]\nid = "tiaoli"\nfile = "a.md"\n\n'
               '[[document]]\nid = "tiaoli"\nfile = "b.md"\n')
    status, out = run_check(make_corpus(tmp_path, {"a.md": LAW, "b.md": other}, catalog), capsys, monkeypatch)
    assert status == 1
    assert "corpus/raw/b.md:1: error: different documents would merge under id 'tiaoli'" in out


def test_printings_of_one_document_merge_and_are_reported(tmp_path, capsys, monkeypatch):
    catalog = ('[[document]]\nid = "tiaoli"\nfile = "a.md"\n\n'
               '[[document]]\nid = "tiaoli"\nfile = "b.md"\n')
    status, out = run_check(make_corpus(tmp_path, {"a.md": LAW, "b.md": LAW}, catalog), capsys, monkeypatch)
    assert status == 0, out
    assert "corpus/raw/b.md:1: note: a printing of 'tiaoli'" in out


def test_generic_alias_never_merges_another_places_report(tmp_path, capsys, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    report = ("政府工作报告\n\n（2026年1月20日在某省第十四届人民代表大会第四次会议上）\n\n"
              "一、过去一年工作回顾\n\n（一）经济运行稳中有进。全省生产总值增长5.2%。\n\n"
              "（二）民生保障有力有效。城镇新增就业80万人。\n\n（三）改革开放持续深化。进出口总值增长6%。\n")
    (corpus / "raw" / "province.txt").write_text(report, encoding="utf-8")
    status, out = run_check(corpus, capsys, monkeypatch)
    assert status == 0, out
    assert "corpus/raw/province.txt:1: note: title '政府工作报告' is a generic alias" in out
    from service.qa.ingest import ingest

    ingested = ingest(corpus)
    qdn = [c for c in ingested.clauses if c.doc_id == "qdn-zhengfu-baogao-2024"]
    assert qdn and not any("全省生产总值增长5.2%" in c.text for c in qdn)
    assert any("全省生产总值增长5.2%" in c.text and c.doc_id == "province" for c in ingested.clauses)


@pytest.mark.parametrize("bad", [
    '[[document]]\nid = "x"\nkind = "poem"\n', '[[document]]\nid = "x"\nurl = "javascript:alert(1)"\n',
    '[[document]]\nid = "x"\ncolour = "red"\n',
])
def test_invalid_catalog_is_an_error_with_its_line(tmp_path, capsys, monkeypatch, bad):
    catalog = '[[document]]\nfile = "tiaoli.md"\ntitle = "某省测试条例（修订）"\n\n' + bad
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": LAW}, catalog), capsys, monkeypatch)
    assert status == 1 and "documents.toml:5: error:" in out
    assert "《某省测试条例（修订）》" in out  # the other entries still apply


def test_a_catalog_that_is_not_toml(tmp_path, capsys, monkeypatch):
    status, out = run_check(make_corpus(tmp_path, {"tiaoli.md": LAW}, "[[document]\nid = 1\n"), capsys, monkeypatch)
    assert status == 1 and "documents.toml:1: error:" in out
