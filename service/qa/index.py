"""BM25 over clauses: built once (or mapped from its artifact), searched many times, never per request.

Scores are rank-bm25's BM25Okapi (k1=1.5, b=0.75, epsilon floor 0.25 x mean idf for terms in more than
half the clauses, idf 0 at exactly half), precomputed per (term, clause) into CSC arrays: a query costs
the postings it touches, not the corpus size. Terms found in more than ESSENTIAL_SHARE of the clauses
(the helper words of policy text) are not scanned: they are looked up only for the clauses the rarer
terms found, and only while their combined upper bound could still change the top k (MaxScore); when it
could, they are scanned too. So results are exactly BM25Okapi's, up to float32 rounding of the weights.
The loops are compiled with numba (about 2 ns a posting; numpy's temporaries cost ~15 ns).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp

from .models import Clause

K1, B, EPSILON = 1.5, 0.75, 0.25
FORMAT = "policy-qa-bm25-csc"
FORMAT_VERSION = 1
# Terms in at most this share of clauses are scanned in full from the start; the rest are probed.
# Measured on the 1M-clause benchmark: 0.01 gives p50 0.8 ms but p99 16 ms (many candidates to probe),
# 0.1 gives p50 0.9 ms, p99 4-6 ms; scanning everything (1.0) p50 2.6 ms.
ESSENTIAL_SHARE = 0.1
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
    # flat int32 buffers, not lists of ints: 1M clauses hold ~80M postings
    cols, tfs, per_clause, lengths = array("i"), array("i"), array("i"), array("i")
    for length, counts in counted:
        lengths.append(length)
        per_clause.append(len(counts))
        cols.extend([vocab.setdefault(t, len(vocab)) for t in counts])
        tfs.extend(counts.values())
    n, v = len(lengths), len(vocab)
    doc_len = np.frombuffer(lengths, dtype=np.int32) if n else np.zeros(0, np.int32)
    rows = np.repeat(np.arange(n, dtype=np.int32), np.frombuffer(per_clause, dtype=np.int32)) if n else []
    tf = sp.csc_matrix(
        (np.frombuffer(tfs, dtype=np.int32).astype(np.float32) if n else np.zeros(0, np.float32),
         (rows, np.frombuffer(cols, dtype=np.int32) if n else [])),
        shape=(n, v),
    )
    del rows, cols, tfs
    tf.sort_indices()
    df = np.diff(tf.indptr).astype(np.int32)
    # exactly BM25Okapi._calc_idf, including the floor for negative idf (not for idf == 0)
    idf = np.log(n - df + 0.5) - np.log(df + 0.5)
    if v:
        idf[idf < 0] = EPSILON * (math.fsum(idf) / v)
    avgdl = doc_len.sum() / n if n else 1.0
    norm = K1 * (1 - B + B * doc_len / avgdl)
    f = tf.data.astype(np.float64)
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
        self._df = arrays["df"]
        self.df = DocFreq(self._vocab, self._df)
        self._weight_of: dict[str, float] = {}
        self._essential_df = max(1, int(ESSENTIAL_SHARE * self.n))
        self._scratch = threading.local()
        if terms:  # compile (or load from numba's cache) now: before gunicorn forks, not in a request
            self.search([terms[int(np.argmin(arrays["df"]))]], 1)

    # ---- term statistics the answer logic uses ------------------------------------------
    def weight(self, term: str) -> float:
        """A term's informativeness, always positive (BM25+ style idf), 0 for unknown terms."""
        w = self._weight_of.get(term)
        if w is None:
            i = self._vocab.get(term)
            if i is None:
                return 0.0
            n = int(self._df[i])
            # answering asks for the same few terms thousands of times; known terms only, so bounded
            w = self._weight_of[term] = math.log(1 + (self.n - n + 0.5) / (n + 0.5))
        return w

    @property
    def weight_unseen(self) -> float:
        """The weight a term the corpus never uses would have (df = 0)."""
        return math.log(1 + (self.n + 0.5) / 0.5)

    def known(self, term: str) -> bool:
        return term in self._vocab

    # ---- search -------------------------------------------------------------------------
    def _buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-thread score accumulator, touched-marks (kept all-zero between queries) and touched list."""
        s = self._scratch
        if getattr(s, "acc", None) is None:
            s.acc = np.zeros(self.n, dtype=np.float64)
            s.mark = np.zeros(self.n, dtype=np.uint8)
            s.touched = np.empty(self.n, dtype=np.int32)
        return s.acc, s.mark, s.touched

    def _df_of(self, term_id: int) -> int:
        return int(self._indptr[term_id + 1] - self._indptr[term_id])

    def search(self, query_tokens: list[str], k: int = 20) -> list[tuple[int, float]]:
        """Top-k (clause index, score) by BM25, best first, ties by index; nothing for an empty query."""
        if not query_tokens or not self.n or k <= 0:
            return []
        counts = Counter(self._vocab[t] for t in query_tokens if t in self._vocab)
        # an idf of exactly 0 (a term in exactly half the clauses) adds nothing to any score
        terms = sorted((i for i in counts if self._idf[i] != 0), key=lambda i: (self._df_of(i), i))
        if not terms:
            return []
        if any(self._idf[i] < 0 for i in terms):
            # a negative idf floor (tiny corpora) breaks the upper-bound argument: score it all
            n_essential = len(terms)
        else:
            n_essential = max(1, sum(1 for i in terms if self._df_of(i) <= self._essential_df))
        ids = np.asarray(terms, dtype=np.int64)
        mult = np.asarray([counts[i] for i in terms], dtype=np.float64)
        # bound[j]: the most terms[j:] can add to any clause's score
        # (inflated a little so float rounding in a different summation order can never prune a winner)
        bound = np.append(np.cumsum((mult * self._max_weight[ids])[::-1])[::-1], 0.0) * (1 + 1e-9) + 1e-12
        acc, mark, touched = self._buffers()
        m = 0
        try:
            m = _accumulate(self._indptr, self._rows, self._weights, ids[:n_essential], mult[:n_essential],
                            acc, mark, touched, 0)
            while True:
                rest = slice(n_essential, len(terms))
                top_ids, top_scores = _probe_top(
                    self._indptr, self._rows, self._weights, ids[rest], mult[rest], bound[n_essential:],
                    acc, touched[:m], k,
                )
                complete = n_essential == len(terms) or (
                    top_ids.size == k and top_scores[-1] > bound[n_essential]
                )
                if complete:
                    return [(int(i), float(s)) for i, s in zip(top_ids, top_scores, strict=True) if s > 0]
                # a clause none of the scanned terms touched could still reach the top k: scan more terms,
                # as many as it takes for the rest's bound to fall below the k-th score found so far
                upto = n_essential + 1
                if top_ids.size == k:
                    while upto < len(terms) and bound[upto] >= top_scores[-1]:
                        upto += 1
                m = _accumulate(self._indptr, self._rows, self._weights, ids[n_essential:upto],
                                mult[n_essential:upto], acc, mark, touched, m)
                n_essential = upto
        except BaseException:
            self._scratch.acc = None  # partly written: never reuse these buffers
            raise
        finally:
            _reset(acc, mark, touched[:m])

    # ---- the artifact -------------------------------------------------------------------
    def save(self, folder: Path, meta: dict) -> None:
        """Write arrays (.npy) and JSON metadata into a fresh folder, then rename it into place as `folder`."""
        folder = Path(folder)
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)  # left by a crashed build that had our pid
        tmp.mkdir(parents=True)
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
        shutil.rmtree(old, ignore_errors=True)  # workers mapping the old files keep them until they exit

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


# ---- the tight loops (numba: about 2 ns per posting instead of numpy's ~15 ns with temporaries) ----------
@numba.njit(cache=True, nogil=True)
def _accumulate(indptr, rows, weights, terms, mult, acc, mark, touched, m):  # pragma: no cover - compiled
    """Add every posting of `terms` into acc; append first-touched clauses to touched[m:]; new m."""
    for j in range(terms.size):
        t = terms[j]
        c = mult[j]
        for p in range(indptr[t], indptr[t + 1]):
            r = rows[p]
            if mark[r] == 0:
                mark[r] = 1
                touched[m] = r
                m += 1
            acc[r] += weights[p] * c
    return m


@numba.njit(cache=True, nogil=True)
def _reset(acc, mark, touched):  # pragma: no cover - compiled
    for r in touched:
        acc[r] = 0.0
        mark[r] = 0


@numba.njit(cache=True, nogil=True)
def _better(s1, i1, s2, i2):  # pragma: no cover - compiled
    return s1 > s2 or (s1 == s2 and i1 < i2)


@numba.njit(cache=True, nogil=True)
def _probe_top(indptr, rows, weights, terms, mult, bound, acc, touched, k):  # pragma: no cover - compiled
    """Top k of the touched clauses by full score (ties by index), best first.

    A touched clause's score is its accumulated part plus, for each unscanned term, a binary search in
    that term's sorted postings; it is skipped as soon as what it has plus what the remaining terms could
    add (bound) cannot beat the current k-th best.
    """
    heap_s = np.empty(k, np.float64)  # a min-heap of the k best so far (worst at the root)
    heap_i = np.empty(k, np.int64)
    size = 0
    for r in touched:
        score = acc[r]
        for j in range(terms.size):
            if size == k and not _better(score + bound[j], r, heap_s[0], heap_i[0]):
                score = -np.inf
                break
            t = terms[j]
            lo, hi = indptr[t], indptr[t + 1]
            while lo < hi:
                mid = (lo + hi) >> 1
                if rows[mid] < r:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < indptr[t + 1] and rows[lo] == r:
                score += weights[lo] * mult[j]
        if size < k:
            pos = size
            size += 1
            while pos > 0:  # sift up
                parent = (pos - 1) >> 1
                if _better(heap_s[parent], heap_i[parent], score, r):
                    heap_s[pos] = heap_s[parent]
                    heap_i[pos] = heap_i[parent]
                    pos = parent
                else:
                    break
            heap_s[pos] = score
            heap_i[pos] = r
        elif _better(score, r, heap_s[0], heap_i[0]):
            pos = 0
            while True:  # sift down from the root
                child = 2 * pos + 1
                if child >= k:
                    break
                if child + 1 < k and _better(heap_s[child], heap_i[child], heap_s[child + 1], heap_i[child + 1]):
                    child += 1
                if _better(score, r, heap_s[child], heap_i[child]):
                    heap_s[pos] = heap_s[child]
                    heap_i[pos] = heap_i[child]
                    pos = child
                else:
                    break
            heap_s[pos] = score
            heap_i[pos] = r
    order = np.empty(size, np.int64)
    for a in range(size):
        order[a] = a
    # insertion sort of at most k entries, best first
    for a in range(1, size):
        b = a
        while b > 0 and _better(heap_s[order[b]], heap_i[order[b]], heap_s[order[b - 1]], heap_i[order[b - 1]]):
            order[b], order[b - 1] = order[b - 1], order[b]
            b -= 1
    return heap_i[order], heap_s[order]
