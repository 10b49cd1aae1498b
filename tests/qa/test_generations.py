"""Index generations: the ingest cache is reused across restarts and invalidated by any input of ingest()."""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from service.qa import generations
from service.qa.engine import QAEngine
from service.qa.ingest import ingest
from service.qa.tokenize import Tokenizer, Vocabulary

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(Vocabulary.load(CORPUS))


@pytest.fixture
def corpus(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def open_(corpus: Path, index: Path, tokenizer: Tokenizer):
    return generations.open_corpus(corpus, index, tokenizer, QAEngine._indexed_text)


def count_ingests(monkeypatch) -> list[Path]:
    calls: list[Path] = []

    def counting(corpus_dir):
        calls.append(corpus_dir)
        return ingest(corpus_dir)

    monkeypatch.setattr(generations, "ingest", counting)
    return calls


def test_restart_maps_the_generation_instead_of_ingesting(corpus, tmp_path, tokenizer, monkeypatch):
    index = tmp_path / "index"
    calls = count_ingests(monkeypatch)
    first_report, first_index = open_(corpus, index, tokenizer)
    assert len(calls) == 1
    pointer = generations.read_pointer(index)
    assert pointer["generation"] == 1 and (index / pointer["dir"] / generations.REPORT).is_file()
    report, loaded = open_(corpus, index, tokenizer)
    assert len(calls) == 1, "a restart re-ingested an unchanged corpus"
    assert report.clauses == first_report.clauses and report.documents == first_report.documents
    assert isinstance(loaded.arrays["weights"], np.memmap)
    tokens = tokenizer.tokens("耕地保有量")
    assert loaded.search(tokens, 10) == first_index.search(tokens, 10)
    assert generations.read_pointer(index)["generation"] == 1


@pytest.mark.parametrize("change", ["raw text", "new raw file", "catalog", "ingest code"])
def test_any_input_of_ingest_makes_a_new_generation(corpus, tmp_path, tokenizer, monkeypatch, change):
    index = tmp_path / "index"
    open_(corpus, index, tokenizer)
    calls = count_ingests(monkeypatch)
    raw = sorted((corpus / "raw").glob("*.txt"))[0]
    if change == "raw text":  # same size: the content hash tells
        raw.write_text(raw.read_text(encoding="utf-8").replace("耕地", "园地", 1), encoding="utf-8")
    elif change == "new raw file":
        (corpus / "raw" / "zz-extra.txt").write_text("一段新的文字，说明新增加的内容。\n", encoding="utf-8")
    elif change == "catalog":
        catalog = corpus / "documents.toml"
        catalog.write_text(catalog.read_text(encoding="utf-8").replace('kind = "report"', 'kind = "policy"'),
                           encoding="utf-8")
    elif change == "ingest code":
        monkeypatch.setattr(generations, "CACHE_VERSION", generations.CACHE_VERSION + 1)
    report, _ = open_(corpus, index, tokenizer)
    assert len(calls) == 1
    assert generations.read_pointer(index)["generation"] == 2
    if change == "raw text":
        assert any("园地" in c.text for c in report.clauses)


def test_unreadable_generation_is_rebuilt_and_old_ones_pruned(corpus, tmp_path, tokenizer):
    index = tmp_path / "index"
    open_(corpus, index, tokenizer)
    folder = generations.current_dir(index)
    (folder / generations.REPORT).write_bytes(b"not a pickle")
    report, loaded = open_(corpus, index, tokenizer)
    assert generations.read_pointer(index)["generation"] == 2 and loaded.n == len(report.clauses)
    for i in range(generations.KEEP + 1):
        (corpus / "raw" / f"zz-{i}.txt").write_text(f"第{i}段新增的文字内容。\n", encoding="utf-8")
        open_(corpus, index, tokenizer)
    names = sorted(p.name for p in index.glob("gen-*"))
    assert len(names) == generations.KEEP and names[-1] == generations.read_pointer(index)["dir"]


def test_pointer_is_replaced_atomically_and_names_a_complete_generation(corpus, tmp_path, tokenizer):
    index = tmp_path / "index"
    open_(corpus, index, tokenizer)
    before = generations.pointer_signature(index)
    (corpus / "raw" / "zz.txt").write_text("新增的文字内容。\n", encoding="utf-8")
    open_(corpus, index, tokenizer)
    assert generations.pointer_signature(index) != before
    pointer = json.loads((index / generations.POINTER).read_text())
    folder = index / pointer["dir"]
    assert pickle.loads((folder / generations.REPORT).read_bytes()).clauses
    assert json.loads((folder / "meta.json").read_text())["ingest_key"] == pointer["ingest_key"]
    assert not list(index.glob("*.tmp*"))


def test_catalog_titles_are_matched_by_lookup_not_by_scanning():
    """A thousand catalog entries cost one dict lookup per candidate line."""
    from service.qa import ingest as ingest_module
    from service.qa.metadata import Entry

    catalog = [Entry(f"d{i}", f"第{i}号文件标题", (f"别名{i}",)) for i in range(1000)]
    titles = ingest_module.title_lookup(catalog)
    assert titles[ingest_module._fold_title("第999号文件标题")] == "d999"
    assert titles[ingest_module._fold_title("别名5")] == "d5"
    twice = catalog + [Entry("later", "第1号文件标题")]
    assert ingest_module.title_lookup(twice)[ingest_module._fold_title("第1号文件标题")] == "d1"  # first wins


def test_unwritable_index_folder_still_serves_from_memory(tmp_path, tokenizer):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    report, index = open_(CORPUS, blocker / "index", tokenizer)
    assert index.n == len(report.clauses) and index.search(tokenizer.tokens("耕地保有量"), 5)


def test_every_source_counts_but_not_extracted_texts_or_hidden_files(tmp_path):
    raw = tmp_path / "corpus" / "raw"
    raw.mkdir(parents=True)
    for name in ("a.txt", "b.pdf", "b.pdf.txt", "c.docx", ".lock", "d.md.txt"):
        (raw / name).write_bytes(b"x")
    assert [p.name for p in generations.raw_files(tmp_path / "corpus")] == ["a.txt", "b.pdf", "c.docx", "d.md.txt"]
