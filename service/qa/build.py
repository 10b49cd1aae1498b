"""Build the clause index once (both cores, a progress bar), save it as an artifact, reuse it while it matches."""
from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jieba
from tqdm import tqdm

from . import index as bm25
from .index import ClauseIndex, build_arrays, read_meta
from .models import Clause
from .tokenize import Tokenizer

log = logging.getLogger(__name__)

# Below this many clauses a process pool costs more than it saves (jieba: ~1 MB/s per core).
PARALLEL_MIN = 5000
PROGRESS_MIN = 20000

_worker_tokenizer: Tokenizer | None = None


def corpus_hash(texts: list[str]) -> str:
    """Identity of what BM25 sees: every indexed text, in order."""
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def tokenizer_hash(tokenizer: Tokenizer) -> str:
    """Identity of the tokenization: jieba's version, the user dictionary's bytes, the stopwords."""
    h = hashlib.sha256(f"jieba {jieba.__version__} cut_for_search\n".encode())
    h.update(tokenizer.vocab.userdict.read_bytes())
    h.update("\n".join(sorted(tokenizer.vocab.stopwords)).encode("utf-8"))
    h.update("\n".join(sorted(tokenizer.vocab.synonyms)).encode("utf-8"))
    return h.hexdigest()


def artifact_meta(texts: list[str], tokenizer: Tokenizer) -> dict:
    """What an artifact must record to be reused for this corpus and tokenizer."""
    return {
        "format": bm25.FORMAT, "version": bm25.FORMAT_VERSION, "k1": bm25.K1, "b": bm25.B,
        "epsilon": bm25.EPSILON, "clauses": len(texts), "corpus_sha256": corpus_hash(texts),
        "tokenizer_sha256": tokenizer_hash(tokenizer), "tokenizer": tokenizer.fingerprint(),
    }


def is_current(found: dict | None, expected: dict) -> bool:
    """True when an artifact's metadata matches every identity field of the expected one."""
    return found is not None and all(found.get(k) == v for k, v in expected.items())


def _count(text: str) -> tuple[int, Counter[str]]:
    assert _worker_tokenizer is not None
    tokens = _worker_tokenizer.tokens(text)
    return len(tokens), Counter(tokens)


def count_terms(tokenizer: Tokenizer, texts: list[str], workers: int | None = None,
                progress: bool | None = None) -> Iterator[tuple[int, Counter[str]]]:
    """(length, term counts) per text, in order; forked workers share the parent's loaded dictionary."""
    global _worker_tokenizer
    _worker_tokenizer = tokenizer
    workers = workers or os.cpu_count() or 1
    show = len(texts) >= PROGRESS_MIN if progress is None else progress
    bar = tqdm(total=len(texts), desc="tokenizing clauses", unit="clause", disable=not show, mininterval=1.0)
    try:
        if workers > 1 and len(texts) >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for item in pool.imap(_count, texts, chunksize=256):
                    bar.update()
                    yield item
        else:
            for text in texts:
                bar.update()
                yield _count(text)
    finally:
        bar.close()


def build_index(clauses: list[Clause], texts: list[str], tokenizer: Tokenizer, workers: int | None = None,
                progress: bool | None = None) -> ClauseIndex:
    """Tokenize every clause text and build the BM25 arrays in memory."""
    terms, arrays = build_arrays(count_terms(tokenizer, texts, workers, progress))
    return ClauseIndex.from_arrays(clauses, tokenizer.fingerprint(), terms, arrays)


def load_or_build(folder: Path | None, clauses: list[Clause], texts: list[str], tokenizer: Tokenizer,
                  workers: int | None = None, progress: bool | None = None, force: bool = False) -> ClauseIndex:
    """The artifact in `folder` when it matches this corpus and tokenizer, else a fresh build saved there."""
    expected = artifact_meta(texts, tokenizer)
    if folder is not None and not force and is_current(read_meta(folder), expected):
        try:
            return ClauseIndex.load(folder, clauses, tokenizer.fingerprint())
        except (OSError, ValueError, KeyError) as exc:
            log.warning("index artifact %s unreadable (%s); rebuilding", folder, exc)
    index = build_index(clauses, texts, tokenizer, workers, progress)
    if folder is not None:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            index.save(folder, expected)
            log.info("index artifact written to %s (%d clauses)", folder, len(clauses))
        except OSError as exc:  # a read-only deployment still serves from memory
            log.warning("could not write index artifact %s: %s", folder, exc)
    return index
