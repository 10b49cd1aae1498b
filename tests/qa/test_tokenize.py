from __future__ import annotations

import pytest

from service.qa.tokenize import years


@pytest.fixture(scope="module")
def tok(engine):
    return engine.tokenizer


def test_every_word_of_the_generated_user_dictionary_stays_whole(tok):
    """corpus/userdict.txt is scripts/build_userdict.py's output over the shipped corpus: no hand entries."""
    entries = [line.split()[0] for line in tok.vocab.userdict.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert entries
    for word in entries:
        assert word in tok.tokens(f"关于{word}的规定"), word


def test_question_words_and_function_words_removed(tok):
    tokens = tok.tokens("耕地保护目标是多少？")
    assert "是多少" not in tokens and "多少" not in tokens and "是" not in tokens and "？" not in tokens
    assert "耕地保护" in tokens and "目标" in tokens


def test_traditional_questions_simplified(tok):
    assert tok.simplify("耕地保有量目標是多少？") == "耕地保有量目标是多少?"
    assert tok.simplify("ＧＤＰ　增長") == "gdp 增长"


def test_years(tok):
    assert years("黔东南州2028年粮食产量目标") == ["2028"]
    assert years("2024 年的呢") == ["2024"]


def test_index_records_what_built_it(engine):
    fp = engine.index.fingerprint
    assert fp["userdict"] == "userdict.txt" and fp["tokenizer"].startswith("jieba")
