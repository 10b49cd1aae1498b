"""BM25 over clauses: built once (or mapped from its artifact), searched many times, never per request.

Scores are rank-bm25's BM25Okapi (k1=1.5, b=0.75, epsilon floor 0.25 x mean idf for terms in more than
half the clauses), precomputed per (term, clause) into a CSC matrix: a query costs the postings it
touches, not the corpus size. Terms found in many clauses (the helper words of policy text) are only
looked up for the clauses the rarer terms already found, and scanned in full only when their combined
upper bound could still change the top k (MaxScore), so the result stays exactly BM25Okapi's.
"""
from __future__ import annotations

import json
import math
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .models import Clause

K1, B, EPSILON = 1.5, 0.75, 0.25
FORMAT = "policy-qa-bm25-csc"
FORMAT_VERSION = 1
# Terms in at most this share of clauses are scanned in full from the start; the rest are probed.
ESSENTIAL_SHARE = 0.01
ARRAYS = ("indptr", "rows", "weights", "df", "idf", "max_weight", "doc_len")


class DocFreq(Mapping):
    """term -> number of clauses containing it, read from the index arrays (a Counter-like view)."""

    def __init__(self, vocab: dict[str, int], df: np.ndarray):
        self._vocab, self._df = vocab, df

    def __getitem__(self, term: str) -> int:
        return int(self._df[self._vocab[term]])

    def get(self, term: str, default=0):
        i = self._vocab.get(term)
        return default if i is None else int(self._df[i])

    def __contains__(self, term: object) -> bool:
        return term in self._vocab

    def __iter__(self) -> Iterator[str]:
        return iter(self._vocab)

    def __len__(self) -> int:
        return len(self._vocab)


def count_terms(token_lists: Iterable[list[str]]) -> Iterator[tuple[int, Counter[str]]]:
    """(clause length, term counts) per clause: the only thing the index keeps of the tokens."""
    for tokens in token_lists:
        yield len(tokens), Counter(tokens)


def build_arrays(counted: Iterable[tuple[int, Mapping[str, int]]]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Vocabulary and BM25Okapi weight arrays (CSC: one column of postings per term) from term counts."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    tfs: list[int] = []
    lengths: list[int] = []
    for d, (length, counts) in enumerate(counted):
        lengths.append(length)
        cols.extend(vocab.setdefault(t, len(vocab)) for t in counts)
        tfs.extend(counts.values())
        rows.extend([d] * len(counts))
    n, v = len(lengths), len(vocab)
    doc_len = np.asarray(lengths, dtype=np.int32)
    tf = sp.csc_matrix(
        (np.asarray(tfs, dtype=np.float64), (np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int32))),
        shape=(n, v),
    )
    tf.sort_indices()
    df = np.diff(tf.indptr).astype(np.int32)
    # exactly BM25Okapi._calc_idf, including the floor for negative idf (not for idf == 0)
    idf = np.log(n - df + 0.5) - np.log(df + 0.5)
    if v:
        idf[idf < 0] = EPSILON * (math.fsum(idf) / v)
    avgdl = doc_len.sum() / n if n else 1.0
    norm = K1 * (1 - B + B * doc_len / avgdl)
    f = tf.data
    col_of = np.repeat(np.arange(v), df)
    weights = (idf[col_of] * (f * (K1 + 1) / (f + norm[tf.indices]))).astype(np.float32)
    max_weight = (
        np.maximum.reduceat(weights, tf.indptr[:-1]) if weights.size else np.zeros(v, np.float32)
    ).astype(np.float32)
    terms = sorted(vocab, key=vocab.__getitem__)
    arrays = {
        "indptr": tf.indptr.astype(np.int64),
        "rows": tf.indices.astype(np.int32),
        "weights": weights,
        "df": df,
        "idf": idf,
        "max_weight": max_weight,
        "doc_len": doc_len,
    }
    return terms, arrays


class ClauseIndex:
    """BM25Okapi scores over the clause tokens from precomputed term weights, plus document frequencies."""

    def __init__(self, clauses: list[Clause], token_lists: list[list[str]], fingerprint: dict):
        terms, arrays = build_arrays(count_terms(token_lists))
        self._setup(clauses, fingerprint, terms, arrays)

    @classmethod
    def from_arrays(cls, clauses: list[Clause], fingerprint: dict, terms: list[str],
                    arrays: Mapping[str, np.ndarray]) -> ClauseIndex:
        """An index over arrays built earlier (possibly memory-mapped from an artifact)."""
        self = cls.__new__(cls)
        self._setup(clauses, fingerprint, terms, arrays)
        return self

    def _setup(self, clauses, fingerprint, terms, arrays) -> None:
        self.clauses = clauses
        self.fingerprint = fingerprint
        self.terms = terms
        self.arrays = dict(arrays)
        self._vocab = {t: i for i, t in enumerate(terms)}
        self._indptr = arrays["indptr"]
        self._rows = arrays["rows"]
        self._weights = arrays["weights"]
        self._idf = arrays["idf"]
        self._max_weight = arrays["max_weight"]
        self.n = len(arrays["doc_len"])
        if len(clauses) != self.n:
            raise ValueError(f"index has {self.n} clauses, corpus has {len(clauses)}")
        self.df = DocFreq(self._vocab, arrays["df"])
        self._essential_df = max(1, int(ESSENTIAL_SHARE * self.n))
        self._scratch = threading.local()

    # ---- term statistics the answer logic uses ------------------------------------------
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
        return term in self._vocab

    # ---- search -------------------------------------------------------------------------
    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-thread score accumulator and seen-marks, kept all-zero between queries."""
        s = self._scratch
        if getattr(s, "acc", None) is None:
            s.acc = np.zeros(self.n, dtype=np.float64)
            s.seen = np.zeros(self.n, dtype=bool)
        return s.acc, s.seen

    def _df_of(self, term_id: int) -> int:
        return int(self._indptr[term_id + 1] - self._indptr[term_id])

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._indptr[term_id], self._indptr[term_id + 1]
        return self._rows[lo:hi], self._weights[lo:hi]

    def search(self, query_tokens: list[str], k: int = 20) -> list[tuple[int, float]]:
        """Top-k (clause index, score) by BM25, best first, ties by index; nothing for an empty query."""
        if not query_tokens or not self.n or k <= 0:
            return []
        counts = Counter(self._vocab[t] for t in query_tokens if t in self._vocab)
        # an idf of exactly 0 (a term in exactly half the clauses) adds nothing to any score
        terms = sorted((i for i in counts if self._idf[i] != 0), key=lambda i: (self._df_of(i), i))
        if not terms:
            return []
        q = {i: counts[i] for i in terms}
        if any(self._idf[i] < 0 for i in terms):
            # a negative idf floor (tiny corpora) breaks the upper-bound argument: score it all
            n_essential = len(terms)
        else:
            n_essential = max(1, sum(1 for i in terms if self._df_of(i) <= self._essential_df))
        acc, seen = self._buffers()
        touched: list[np.ndarray] = []
        try:
            for i in terms[:n_essential]:
                self._scan(i, q[i], acc, seen, touched)
            while True:
                rest = terms[n_essential:]
                bound = float(sum(q[i] * float(self._max_weight[i]) for i in rest))
                found = np.concatenate(touched) if touched else np.empty(0, np.int32)
                ranked = self._top(found, rest, q, acc, k, bound)
                if ranked is not None:
                    return ranked
                # the untouched clauses could still reach the top k: scan the next-rarest term in full
                self._scan(terms[n_essential], q[terms[n_essential]], acc, seen, touched)
                n_essential += 1
        finally:
            for rows in touched:
                acc[rows] = 0.0
                seen[rows] = False

    def _scan(self, term_id: int, count: int, acc: np.ndarray, seen: np.ndarray, touched: list) -> None:
        rows, weights = self.postings(term_id)
        fresh = rows[~seen[rows]]
        if fresh.size:
            seen[fresh] = True
            touched.append(fresh)
        acc[rows] += weights * float(count) if count != 1 else weights

    def _top(self, found, rest, q, acc, k, bound) -> list[tuple[int, float]] | None:
        """The exact top k if no clause outside `found` can reach it, else None."""
        partial = acc[found]
        if rest and found.size > k:
            # a clause needs partial + bound to reach the k-th best partial score to matter
            floor = np.partition(partial, found.size - k)[found.size - k]
            keep = partial + bound >= floor
            found, partial = found[keep], partial[keep]
        scores = partial.copy()
        for i in rest:
            rows, weights = self.postings(i)
            if not rows.size or not found.size:
                continue
            pos = np.searchsorted(rows, found)
            pos[pos == rows.size] = 0
            hit = rows[pos] == found
            scores[hit] += weights[pos[hit]] * float(q[i])
        if scores.size > k:
            kth = np.partition(scores, scores.size - k)[scores.size - k]
            keep = scores >= kth
            found, scores = found[keep], scores[keep]
        order = np.lexsort((found, -scores))[:k]
        found, scores = found[order], scores[order]
        if rest and (found.size < k or scores[-1] <= bound):
            return None  # a clause none of the scanned terms touched scores at most `bound`
        return [(int(i), float(s)) for i, s in zip(found, scores, strict=True) if s > 0]

    # ---- the artifact -------------------------------------------------------------------
    def save(self, folder: Path, meta: dict) -> None:
        """Write arrays (.npy) and JSON metadata into `folder`, replacing it atomically."""
        folder = Path(folder)
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=False)
        for name in ARRAYS:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(self.arrays[name]), allow_pickle=False)
        (tmp / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        info = {"format": FORMAT, "version": FORMAT_VERSION, "k1": K1, "b": B, "epsilon": EPSILON,
                "clauses": self.n, "terms": len(self.terms), "postings": int(self._rows.size), **meta}
        (tmp / "meta.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        old = folder.with_name(folder.name + f".old{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        if old.exists():
            for p in old.iterdir():
                p.unlink()
            old.rmdir()

    @classmethod
    def load(cls, folder: Path, clauses: list[Clause], fingerprint: dict) -> ClauseIndex:
        """Map an artifact's arrays read-only (shared by forked workers) and build the term lookup."""
        folder = Path(folder)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        return cls.from_arrays(clauses, fingerprint, terms, arrays)


def read_meta(folder: Path) -> dict | None:
    """An artifact's metadata, or None when there is no readable artifact."""
    try:
        return json.loads((Path(folder) / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
