"""Each development document, dropped into a corpus with no catalog entry, comes out with its real structure."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
import tomllib

from service.qa.ingest import ingest
from service.qa.structure import furniture_or_signature

SHARED = Path(os.environ.get("POLICY_QA_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
DEV = SHARED / "corpus-dev"
ARTICLE_START_RE = re.compile(r"\n第[一二三四五六七八九十百零]+条[\s　]")

# file -> (headings by number shape, numbered units by number shape, kind)
EXPECTED = {
    "nongcun-tudi-chengbao-fa-2018.md": ({"章": 5, "节": 5}, {"条": 70}, "law"),
    "liangshi-anquan-baozhang-fa-2023.md": ({"章": 11}, {"条": 74}, "law"),
    "nongmingong-gongzi-tiaoli-2019.md": ({"章": 7}, {"条": 64}, "regulation"),
    "shiye-baoxian-tiaoli-1999.md": ({"章": 6}, {"条": 33}, "regulation"),
    "nianxiujia-shishi-banfa-2008.md": ({}, {"条": 19}, "regulation"),
    "xiaofei-fupin-yijian-2018.html": ({"、": 6}, {"）": 17}, "policy"),
    "dudao-jili-tongzhi-2018.html": ({}, {"、": 30}, "policy"),
    "cujin-jiuye-yijian-2018.txt": ({"、": 5}, {"）": 15}, "policy"),
    "henan-zfgzbg-2026.txt": ({"、": 3, "）": 10}, {"）": 5, "——": 8}, "report"),
}


def shared_or_skip(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared development data not found at {path}")
        pytest.skip(f"shared development data not found at {path}")
    return path


def manifest() -> dict[str, dict]:
    data = tomllib.loads(shared_or_skip(DEV / "MANIFEST.toml").read_text(encoding="utf-8"))
    return {d["file"]: d for d in data["document"]}


def visible_text(path: Path) -> str:
    """The source as shared/eval/run_eval.py reads it for its faithfulness check."""
    spec = importlib.util.spec_from_file_location("run_eval", shared_or_skip(SHARED / "eval" / "run_eval.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.norm(module.corpus_text(path)), module.norm


def shape(number: str) -> str:
    for mark in ("章", "节", "条", "编"):
        if number.startswith("第") and number.endswith(mark):
            return mark
    if number.startswith("——"):
        return "——"
    return number[-1:]


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def ingested(request, tmp_path_factory):
    name = request.param
    source = shared_or_skip(DEV / name)
    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "raw").mkdir()
    shutil.copy(source, corpus / "raw" / name)
    report = ingest(corpus)
    return name, corpus, report


def test_structure_counts(ingested):
    name, _, report = ingested
    headings, units, kind = EXPECTED[name]
    (doc,) = report.documents
    clauses = report.clauses
    found_headings: dict[str, int] = {}
    for heading in doc.toc:
        mark = shape(heading.label.split(" ")[0].split("　")[0]) if heading.label.startswith("第") else (
            "、" if re.match(r"^[一二三四五六七八九十]+、", heading.label) else
            "）" if heading.label.startswith("（") else "other")
        found_headings[mark] = found_headings.get(mark, 0) + 1
    assert found_headings == headings
    found_units: dict[str, int] = {}
    for clause in clauses:
        if clause.number:
            found_units[shape(clause.number)] = found_units.get(shape(clause.number), 0) + 1
    assert found_units == units
    assert doc.kind == kind


def test_metadata_from_the_document(ingested):
    name, _, report = ingested
    meta = manifest()[name]
    (doc,) = report.documents
    assert doc.title == meta["title"]
    if meta["wenhao"] and "file name" not in meta.get("notes", "") and "public listings" not in meta.get("notes", ""):
        assert re.sub(r"（.*）", "", meta["wenhao"]) in doc.wenhao
    assert doc.date == meta["date"] or not doc.date and "not from the file" in meta.get("notes", "")
    if meta.get("in_force") and meta["kind"] == "law":
        assert doc.effective == meta["in_force"]


def test_no_unit_holds_furniture_a_signature_or_another_article(ingested):
    name, _, report = ingested
    assert not report.errors, [str(p) for p in report.errors]
    for clause in report.clauses:
        if clause.section in ("文件信息", "落款"):
            continue
        assert not furniture_or_signature(clause.text), (clause.id, clause.text[-60:])
        assert not ARTICLE_START_RE.search(clause.text), clause.id
        assert len(clause.text) <= 1500, clause.id
        assert "— " not in clause.text and "印发" not in clause.text[-12:]


def test_every_quote_is_in_the_visible_source_text(ingested):
    name, corpus, report = ingested
    visible, norm = visible_text(DEV / name)
    for clause in report.clauses:
        for text in clause.piece_texts or (clause.text,):
            assert norm(text) in visible, (clause.id, text[:60])
        assert norm(clause.quote()) in visible


def test_clause_ids_are_structural(ingested):
    name, _, report = ingested
    ids = [c.id for c in report.clauses]
    assert len(ids) == len(set(ids))
    articles = [c for c in report.clauses if c.number.endswith("条")]
    for clause in articles:
        assert re.fullmatch(rf"{re.escape(clause.doc_id)}-a\d+", clause.id), clause.id


def test_a_page_break_inside_a_clause_is_quoted_as_its_pieces(tmp_path):
    source = shared_or_skip(DEV / "cujin-jiuye-yijian-2018.txt")
    (tmp_path / "raw").mkdir()
    shutil.copy(source, tmp_path / "raw" / source.name)
    report = ingest(tmp_path)
    broken = [c for c in report.clauses if c.pieces]
    assert broken, "the page numbers of this file fall inside clauses"
    raw = source.read_text(encoding="utf-8")
    for clause in broken:
        assert len(clause.pieces) == len(clause.piece_texts) >= 2
        between = raw[clause.pieces[0].end : clause.pieces[1].start]
        assert re.search(r"—\s*\d+\s*—", between)  # the page number stands between the pieces
        for span, text in zip(clause.pieces, clause.piece_texts, strict=True):
            assert re.sub(r"\s", "", raw[span.start : span.end]) == re.sub(r"\s", "", text)
        assert "—" not in clause.text.replace("——", "")
