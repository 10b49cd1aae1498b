from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import jieba
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_userdict", ROOT / "scripts" / "build_userdict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tokenizer():
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def test_repeated_split_noun_phrases_are_chosen(build, tokenizer):
    assert len(list(tokenizer.cut("高标准农田", HMM=False))) > 1  # jieba's own dictionary splits it
    texts = [
        ("各地要加快高标准农田建设。", False),
        ("新建高标准农田五百万亩。", False),
        ("高标准农田由县级统筹。", False),
        ("我们要认真学习。", False),
        ("我们要认真学习。", False),
        ("我们要认真学习。", False),
    ]
    words = build.select(texts, tokenizer)
    assert "高标准农田" in words
    assert not any("学习" in w or "认真" in w for w in words)  # verbs and adverbs are no noun phrase
    assert "标准农田" not in words  # a fragment of the longer run


def test_too_rare_is_left_out_unless_a_heading_names_it(build, tokenizer):
    texts = [("加快高标准农田建设。", False), ("新建高标准农田。", False)]
    assert "高标准农田" not in build.select(texts, tokenizer)
    assert "高标准农田" in build.select([*texts, ("高标准农田", True)], tokenizer)


def test_one_character_ends_are_fragments(build):
    assert not build.nominal(["耕地", "占"], ["n", "v"])
    assert not build.nominal(["部门", "要"], ["n", "v"])
    assert build.nominal(["耕地", "保护"], ["n", "v"])
    assert build.nominal(["高标准", "农田"], ["n", "n"])
    assert not build.nominal(["积极", "发展"], ["ad", "vn"])
    assert not build.nominal(["政府", "的", "工作"], ["n", "uj", "vn"])


def test_writes_a_jieba_user_dictionary(build, tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "raw").mkdir(parents=True)
    for name in ("documents.toml", "stopwords.txt", "synonyms.toml"):
        (corpus / name).write_bytes((ROOT / "corpus" / name).read_bytes())
    for raw in sorted((ROOT / "corpus" / "raw").glob("*.txt"))[:2]:
        (corpus / "raw" / raw.name).write_bytes(raw.read_bytes())
    out = tmp_path / "userdict.txt"
    build.main(["--corpus", str(corpus), "--out", str(out)])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines
    tok = jieba.Tokenizer()
    for line in lines:
        word, freq, tag = line.split(" ")
        assert 3 <= len(word) <= 6 and int(freq) > 0 and tag == "n"
    with open(out, "rb") as handle:
        tok.load_userdict(handle)
