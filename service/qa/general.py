"""How common a word is in general Chinese, from jieba's own tables (MIT, shipped in the jieba wheel).

`jieba/analyse/idf.txt` gives 270k words an inverse document frequency over a general corpus
(时候 4.29, 美国 4.16, 耕地 7.30, 护照 9.74); `jieba/dict.txt` gives 349k words a frequency and a
part-of-speech tag. Each table is read on first use, once per process (about 60-150 ms each).
"""

from __future__ import annotations

import functools
import statistics
from pathlib import Path

import jieba

from service.qa.loading import gc_paused

JIEBA_DIR = Path(jieba.__file__).parent


@functools.cache
def _idf_table() -> dict[str, str]:
    with gc_paused():
        parts = (JIEBA_DIR / "analyse" / "idf.txt").read_text(encoding="utf-8").split()
        # values stay text until asked for: 270k floats would double the load time
        return dict(zip(parts[0::2], parts[1::2], strict=True))


@functools.cache
def _dict_table() -> dict[str, tuple[str, str]]:
    with gc_paused():
        parts = (JIEBA_DIR / "dict.txt").read_text(encoding="utf-8").split()
        return dict(zip(parts[0::3], zip(parts[1::3], parts[2::3], strict=True), strict=True))


def general_idf(word: str) -> float | None:
    """Return word's general-corpus IDF (high = rare, specific), or None when jieba's table lacks it."""
    value = _idf_table().get(word)
    return float(value) if value is not None else None


@functools.cache
def median_idf() -> float:
    """Return the median IDF of the table: jieba's own weight for a word it has never seen."""
    return statistics.median(map(float, _idf_table().values()))


def general_freq(word: str) -> int | None:
    """Return word's frequency in jieba's dictionary, or None when it is not a dictionary word."""
    entry = _dict_table().get(word)
    return int(entry[0]) if entry is not None else None


def general_pos(word: str) -> str | None:
    """Return jieba's part-of-speech tag for word (n, v, ns…), or None when it is not a dictionary word."""
    entry = _dict_table().get(word)
    return entry[1] if entry is not None else None
