"""The serving index agrees with rank-bm25's BM25Okapi (the reference) on the same tokens."""
from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from service.qa.index import ClauseIndex
from service.qa.ingest import ingest
from service.qa.tokenize import Tokenizer, Vocabulary

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
QUESTIONS = [
    "耕地保有量目标是多少", "永久基本农田保护面积要达到多少", "多久开展一次耕地质量综合评价",
    "哪几类数码产品有购新补贴", "提振消费专项行动包括哪些行动", "黔东南州2024年地区生产总值增长目标",
    "以旧换新 补贴 汽车 家电", "耕地占补平衡 省域内 统筹", "发展 推进 建设 加强",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(Vocabulary.load(CORPUS))


@pytest.fixture(scope="module")
def shipped(tokenizer) -> list[list[str]]:
    return [tokenizer.tokens(f"{c.section}\n{c.text}") for c in ingest(CORPUS).clauses]


@pytest.fixture(scope="module")
def queries(tokenizer) -> list[list[str]]:
    return [tokenizer.tokens(q) for q in QUESTIONS]


def recombined(shipped: list[list[str]], n: int, seed: int) -> list[list[str]]:
    """n clauses stitched from pieces of real clauses, so term statistics look like policy text."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(shipped) for _ in range(rng.randint(1, 3))]
        out.append([t for p in parts for t in p[: rng.randint(5, 60)]])
    return out


def reference_top(bm25: BM25Okapi, query: list[str], k: int) -> list[tuple[int, float]]:
    """BM25Okapi's top k as the service reads it: best first, ties by index, positive scores only."""
    scores = bm25.get_scores(query)
    order = np.lexsort((np.arange(scores.size), -scores))[:k]
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def assert_same(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert a == pytest.approx(b, rel=1e-5)


def clauses_for(token_lists):
    return list(range(len(token_lists)))


@pytest.mark.parametrize("n,seed", [(257, 0), (1500, 1), (4000, 2)])
@pytest.mark.parametrize("k", [1, 10, 20])
def test_same_top_k_and_scores_as_bm25okapi(shipped, queries, n, seed, k):
    docs = shipped if n == 257 else recombined(shipped, n, seed)
    index = ClauseIndex(clauses_for(docs), docs, {})
    bm25 = BM25Okapi(docs)
    for q in queries:
        assert_same(index.search(q, k), reference_top(bm25, q, k))


def test_pruned_and_exhaustive_search_agree(shipped, queries):
    """Every path of the MaxScore loop (probe only, scan more, scan all) gives BM25Okapi's answer."""
    docs = recombined(shipped, 3000, 7)
    index = ClauseIndex(clauses_for(docs), docs, {})
    bm25 = BM25Okapi(docs)
    common = [t for t, n in index.df.items() if n > 0.1 * index.n]
    assert len(common) > 5  # the corpus has helper words the pruning must handle
    for essential in (1, 30, 300, index.n):
        index._essential_df = essential
        for q in [*queries, common[:6], common[:3] + queries[0]]:
            for k in (3, 20):
                assert_same(index.search(q, k), reference_top(bm25, q, k))


def test_idf_floor_and_zero_match_bm25okapi():
    """The documented BM25Okapi quirks are kept, not fixed: epsilon floor above half, idf 0 at exactly half."""
    docs = [["a", "half", "most"], ["b", "half", "most"], ["c", "most"], ["d", "x"]]
    index = ClauseIndex(clauses_for(docs), docs, {})
    bm25 = BM25Okapi(docs)
    assert index.arrays["idf"][index._vocab["half"]] == 0.0  # in exactly half: ln(2.5) - ln(2.5)
    assert index.search(["half"], 4) == []  # so it scores nothing, as in BM25Okapi
    floor = index.arrays["idf"][index._vocab["most"]]
    assert floor == pytest.approx(bm25.idf["most"]) and floor == pytest.approx(0.25 * bm25.average_idf)
    for q in (["most"], ["a", "most"], ["most", "half", "x"], ["a", "a", "b"]):
        assert_same(index.search(q, 4), reference_top(bm25, q, 4))


def test_negative_floor_of_tiny_corpus_matches_bm25okapi():
    """Mean idf below 0 makes the floor negative (rank-bm25 PR #26): scores can go negative, as there."""
    docs = [["x", "y"], ["x", "y"], ["x", "z"]]
    index = ClauseIndex(clauses_for(docs), docs, {})
    bm25 = BM25Okapi(docs)
    assert bm25.average_idf < 0
    for q in (["x"], ["z"], ["x", "z"], ["y", "z", "z"]):
        assert_same(index.search(q, 3), reference_top(bm25, q, 3))


def test_repeated_query_terms_count_and_ties_break_by_index():
    docs = [["耕地", "保护"], ["耕地", "质量"], ["耕地", "保护"], ["农田"], ["农田", "质量"]]
    index = ClauseIndex(clauses_for(docs), docs, {})
    bm25 = BM25Okapi(docs)
    for q in (["保护", "保护", "质量"], ["耕地", "保护"], ["农田", "农田"]):
        assert_same(index.search(q, 5), reference_top(bm25, q, 5))
    hits = index.search(["保护"], 5)
    assert [i for i, _ in hits] == [0, 2] and hits[0][1] == hits[1][1]


def test_empty_unknown_and_degenerate_queries():
    docs = [["耕地"], ["农田"]]
    index = ClauseIndex(clauses_for(docs), docs, {})
    assert index.search([], 5) == []
    assert index.search(["没有的词"], 5) == []
    assert index.search(["耕地"], 0) == []
    empty = ClauseIndex([], [], {})
    assert empty.n == 0 and empty.search(["耕地"], 5) == [] and not empty.known("耕地")


def test_term_statistics_the_answer_logic_reads(shipped):
    index = ClauseIndex(clauses_for(shipped), shipped, {})
    df: Counter[str] = Counter()
    for tokens in shipped:
        df.update(set(tokens))
    assert dict(index.df) == dict(df) and len(index.df) == len(df)
    for term in ("耕地", "补贴", "发展"):
        assert index.known(term)
        assert index.weight(term) == pytest.approx(math.log(1 + (index.n - df[term] + 0.5) / (df[term] + 0.5)))
    assert index.weight("没有的词") == 0.0 and not index.known("没有的词")
    assert index.weight_unseen == pytest.approx(math.log(1 + (index.n + 0.5) / 0.5))
