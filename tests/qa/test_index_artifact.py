"""The index artifact: arrays + JSON, memory-mapped, reused while current, rebuilt when stale."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from service import cli, create_app
from service.qa import build, generations
from service.qa.engine import QAEngine
from service.qa.index import ARRAYS, FORMAT_VERSION, ClauseIndex, read_meta
from service.qa.ingest import ingest
from service.qa.tokenize import Tokenizer, Vocabulary
from tests.conftest import isolated

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
PROMPTS = ROOT / "prompts"
QUESTIONS = ["耕地保有量目标是多少？", "哪几类数码产品有购新补贴？", "今天天气怎么样？"]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(Vocabulary.load(CORPUS))


@pytest.fixture(scope="module")
def clauses():
    return ingest(CORPUS).clauses


def texts_of(clauses) -> list[str]:
    return [QAEngine._indexed_text(c) for c in clauses]


def test_saved_artifact_is_arrays_and_json_and_maps_read_only(tmp_path, tokenizer, clauses):
    folder = tmp_path / "index"
    built = build.load_or_build(folder, clauses, texts_of(clauses), tokenizer)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{a}.npy" for a in ARRAYS] + ["meta.json", "terms.json"])
    for name in ARRAYS:  # plain arrays: loadable without pickle
        np.load(folder / f"{name}.npy", allow_pickle=False)
    meta = read_meta(folder)
    assert meta["version"] == FORMAT_VERSION and meta["clauses"] == len(clauses)
    assert meta["corpus_sha256"] == build.corpus_hash(texts_of(clauses))
    assert meta["tokenizer_sha256"] == build.tokenizer_hash(tokenizer)
    loaded = build.load_or_build(folder, clauses, texts_of(clauses), tokenizer)
    assert isinstance(loaded.arrays["weights"], np.memmap) and not loaded.arrays["weights"].flags.writeable
    for q in ("耕地 保有量", "数码产品 补贴", "发展 推进 建设", "没有的词"):
        tokens = tokenizer.tokens(q)
        assert loaded.search(tokens, 20) == built.search(tokens, 20)
    assert dict(loaded.df) == dict(built.df)


def test_current_artifact_is_reused_not_rebuilt(tmp_path, tokenizer, clauses, monkeypatch):
    folder = tmp_path / "index"
    build.load_or_build(folder, clauses, texts_of(clauses), tokenizer)

    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt a current artifact")

    monkeypatch.setattr(build, "build_index", no_build)
    assert build.load_or_build(folder, clauses, texts_of(clauses), tokenizer).n == len(clauses)


@pytest.mark.parametrize("change", ["corpus", "tokenizer", "version", "corrupt", "missing array"])
def test_stale_or_broken_artifact_is_rebuilt(tmp_path, tokenizer, clauses, change):
    folder = tmp_path / "index"
    texts = texts_of(clauses)
    build.load_or_build(folder, clauses, texts, tokenizer)
    meta = json.loads((folder / "meta.json").read_text())
    if change == "corpus":
        texts = texts[:-1] + [texts[-1] + "新增一句。"]
    elif change == "tokenizer":
        meta["tokenizer_sha256"] = "0" * 64
    elif change == "version":
        meta["version"] = FORMAT_VERSION - 1
    if change in ("tokenizer", "version"):
        (folder / "meta.json").write_text(json.dumps(meta))
    elif change == "corrupt":
        (folder / "meta.json").write_text("{not json")
    elif change == "missing array":
        (folder / "weights.npy").unlink()
    index = build.load_or_build(folder, clauses, texts, tokenizer)
    assert read_meta(folder) == {**read_meta(folder), **build.artifact_meta(texts, tokenizer)}
    assert (folder / "weights.npy").exists()
    assert index.search(tokenizer.tokens("耕地保有量"), 5)


def test_unwritable_folder_still_serves_from_memory(tmp_path, tokenizer, clauses):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    index = build.load_or_build(blocker / "index", clauses, texts_of(clauses), tokenizer)
    assert index.search(tokenizer.tokens("耕地保有量"), 5)


def test_parallel_tokenizing_equals_serial(tokenizer, clauses, monkeypatch):
    """Forked workers with the parent's dictionary count exactly what one process counts."""
    monkeypatch.setattr(build, "PARALLEL_MIN", 10)
    texts = texts_of(clauses)
    serial = list(build.count_terms(tokenizer, texts, workers=1, progress=False))
    parallel = list(build.count_terms(tokenizer, texts, workers=2, progress=False))
    assert parallel == serial
    assert serial[0] == (len(tokenizer.tokens(texts[0])), Counter(tokenizer.tokens(texts[0])))


def test_cli_build_index_then_up_to_date(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "var" / "index"
    monkeypatch.setenv("POLICY_QA_INDEX_DIR", str(folder))
    monkeypatch.setenv("POLICY_QA_CORPUS_DIR", str(CORPUS))
    assert cli.main(["build-index"]) == 0
    assert "built" in capsys.readouterr().out and read_meta(generations.current_dir(folder))["clauses"] > 0
    assert cli.main(["build-index"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert cli.main(["build-index", "--force", "--workers", "1"]) == 0
    assert "built" in capsys.readouterr().out


def test_app_builds_artifact_at_first_start_and_answers_the_same(tmp_path):
    folder = tmp_path / "index"
    config = isolated(tmp_path, INDEX_DIR=str(folder))
    first = create_app(config)
    assert read_meta(generations.current_dir(folder)) is not None
    second = create_app(config)  # maps the artifact the first one wrote
    assert isinstance(second.extensions["qa"].index.arrays["rows"], np.memmap)
    memory = create_app({**config, "INDEX_DIR": ""})
    assert isinstance(memory.extensions["qa"].index, ClauseIndex)
    for question in QUESTIONS:
        replies = [a.test_client().post("/api/ask", json={"question": question}).get_json()
                   for a in (first, second, memory)]
        for reply in replies:
            reply.pop("conversation_id")
        assert replies[0] == replies[1] == replies[2]


def test_artifact_for_another_corpus_is_not_used(tmp_path, tokenizer):
    """A copy of the corpus with one clause changed gets its own index, not the old one's postings."""
    other = tmp_path / "corpus"
    shutil.copytree(CORPUS, other)
    raw = sorted((other / "raw").glob("*.txt"))[0]
    raw.write_text(raw.read_text(encoding="utf-8").replace("耕地", "园地", 3), encoding="utf-8")
    folder = tmp_path / "index"
    a = build.load_or_build(folder, ingest(CORPUS).clauses, texts_of(ingest(CORPUS).clauses), tokenizer)
    changed = ingest(other).clauses
    b = build.load_or_build(folder, changed, texts_of(changed), tokenizer)
    assert b.df.get("园地", 0) > a.df.get("园地", 0)
