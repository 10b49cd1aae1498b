from __future__ import annotations

import pickle

import pytest

from service.qa.sound import SoundIndex, fuzzy, pinyin_key, reading_keys

CORPUS_WORDS = ["管护", "保险", "高速", "银行", "重要", "统由", "耕地", "管护站", "恍惚", "5G"]


@pytest.fixture(scope="module")
def index() -> SoundIndex:
    return SoundIndex(CORPUS_WORDS)


@pytest.mark.parametrize(
    ("word", "key"), [("管护", "guan hu"), ("银行", "yin hang"), ("绿色", "lv se"), ("5G网", "5 g wang")]
)
def test_pinyin_key_is_toneless_reading_in_context(word, key):
    assert pinyin_key(word) == key


def test_typed_by_sound(index):
    assert index.same_sound("管户") == ["管护"]
    assert index.same_sound("耕弟") == ["耕地"]


def test_heteronym_read_either_way(index):
    assert index.same_sound("银航") == ["银行"]
    assert "yin hang" in reading_keys("银行") and "yin xing" in reading_keys("银行")


def test_rare_readings_do_not_count(index):
    # 重 also reads tóng and 由 yāo; 重要 and 统由 must not sound alike
    assert "统由" not in index.same_sound("重要")


def test_same_length_only_and_not_itself(index):
    assert "管护站" not in index.same_sound("管户")
    assert "管护" not in index.same_sound("管护")


def test_fuzzy_input_method_confusions(index):
    assert index.same_sound("高数") == []
    assert index.same_sound("高数", fuzzy_match=True) == ["高速"]
    assert fuzzy("zhong shan lan geng xing") == "zong san nan gen xin"  # ong is not ang


def test_shape_typos_are_not_sound_typos(index):
    # 保验 for 保险 is a look-alike (验/险 share 佥), not a sound-alike: bao yan vs bao xian
    assert index.same_sound("保验") == [] and index.same_sound("保验", fuzzy_match=True) == []


def test_non_han_words_are_not_indexed(index):
    assert reading_keys("5G") == [] and index.same_sound("5G") == []


def test_precomputed_index_pickles(index):
    copy = pickle.loads(pickle.dumps(index))
    assert copy.same_sound("管户") == ["管护"] and copy.same_sound("高数", fuzzy_match=True) == ["高速"]
