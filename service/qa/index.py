"""BM25 over clauses: built once per process, searched many times, never per request."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
from rank_bm25 import BM25Okapi

from .models import Clause


class ClauseIndex:
    """rank-bm25's BM25Okapi over the clause tokens, plus the document frequencies we need."""

    def __init__(self, clauses: list[Clause], token_lists: list[list[str]], fingerprint: dict):
        self.clauses = clauses
        self.fingerprint = fingerprint
        self._bm25 = BM25Okapi(token_lists)
        self.n = len(token_lists)
        self.df: Counter[str] = Counter()
        for tokens in token_lists:
            self.df.update(set(tokens))

    def weight(self, term: str) -> float:
        """A term's informativeness, always positive (BM25+ style idf), 0 for unknown terms."""
        n = self.df.get(term, 0)
        if not n:
            return 0.0
        return math.log(1 + (self.n - n + 0.5) / (n + 0.5))

    @property
    def weight_unseen(self) -> float:
        """The weight a term the corpus never uses would have (df = 0)."""
        return math.log(1 + (self.n + 0.5) / 0.5)

    def known(self, term: str) -> bool:
        return term in self.df

    def search(self, query_tokens: list[str], k: int = 20) -> list[tuple[int, float]]:
        """Top-k (clause index, score) by BM25, best first; nothing for an empty query."""
        if not query_tokens or not self.n:
            return []
        scores = self._bm25.get_scores(query_tokens)
        k = min(k, self.n)
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: (-scores[i], i))
        return [(int(i), float(scores[i])) for i in ranked if scores[i] > 0]
