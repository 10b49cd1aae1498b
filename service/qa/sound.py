"""Sound-alike words, for typos typed by pinyin input (管户 for 管护): pypinyin's readings, tones dropped.

`pinyin_key` gives a word's reading in context (pypinyin's phrase dictionary: 银行 'yin hang').
`SoundIndex` indexes words under the two commonest readings of each character (capped), so a typo
matches a word whatever reading of a heteronym it was typed by; it needs only pypinyin's character table,
which makes 50k words index in well under a second, and it pickles for precomputing with an index.
With fuzzy=True the usual input-method confusions count as the same sound (zh/z, ch/c, sh/s, n/l,
ang/an, eng/en, ing/in: 高数 ~ 高速).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from service.qa.loading import gc_paused, grouped

READINGS_PER_CHAR = 2
MAX_READINGS = 4  # keys per word: a word of several heteronyms is indexed under its first few readings
# tone-marked vowels to plain ones, ü as pypinyin's NORMAL style writes it (lǜ -> lv)
TONES = str.maketrans(
    {
        c: plain
        for plain, marked in (
            ("a", "āáǎà"),
            ("e", "ēéěèê̄ếê̌ềê"),
            ("i", "īíǐì"),
            ("o", "ōóǒò"),
            ("u", "ūúǔù"),
            ("v", "üǖǘǚǜ"),
            ("m", "ḿm̀"),
            ("n", "ńňǹ"),
        )
        for c in marked
        if len(c) == 1
    }
)
FUZZY = (("zh", "z"), ("ch", "c"), ("sh", "s"))
FUZZY_FINAL = re.compile(r"(?<=[aei])ng$")
HAN = re.compile(r"[\u3400-\u9fff]")


def toneless(reading: str) -> str:
    """Return a tone-marked pinyin syllable without its tone (lǜ -> lv, as pypinyin's NORMAL style)."""
    reading = reading.translate(TONES)
    if reading.isascii():
        return reading
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))


@functools.cache
def _char_readings() -> dict[str, tuple[str, ...]]:
    # pypinyin's character table is read as data: importing pypinyin would also load its 400k-phrase
    # dictionary (hundreds of milliseconds), which only pinyin_key needs
    package = Path(importlib.util.find_spec("pypinyin").origin).parent
    raw = json.loads((package / "pinyin_dict.json").read_text(encoding="utf-8"))
    table, plain = {}, {}  # plain: each distinct marked reading converted once (1.4k of them, not 48k)
    with gc_paused():
        for code, readings in raw.items():
            char = chr(int(code))
            if HAN.match(char):
                folded = []
                for reading in readings.split(","):
                    if reading not in plain:
                        plain[reading] = toneless(reading)
                    if plain[reading] not in folded:
                        folded.append(plain[reading])
                # the first two readings: rare ones (重 tóng, 由 yāo) would make 重要 sound like 统由
                table[char] = tuple(folded[:READINGS_PER_CHAR])
    return table


def pinyin_key(word: str) -> str:
    """Return word's toneless reading in context, syllables joined by spaces ('管护' -> 'guan hu').

    Imports pypinyin on first use (its phrase dictionary: a few hundred milliseconds, once).
    """
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(word, errors=lambda run: [c.lower() for c in run]))


def fuzzy(key: str) -> str:
    """Fold the usual input-method confusions out of a key ('gao shu' -> 'gao su')."""
    syllables = []
    for syllable in key.split(" "):
        for retroflex, plain in FUZZY:
            if syllable.startswith(retroflex):
                syllable = plain + syllable[2:]
        if syllable.startswith("l"):
            syllable = "n" + syllable[1:]
        syllables.append(FUZZY_FINAL.sub("n", syllable))
    return " ".join(syllables)


def reading_keys(word: str) -> list[str]:
    """Return the keys of word under its characters' readings (at most MAX_READINGS); [] if not all Han."""
    table = _char_readings()
    try:
        options = [table[char] for char in word]
    except KeyError:
        return []
    if all(len(readings) == 1 for readings in options):
        return [" ".join([readings[0] for readings in options])]
    combos = itertools.islice(itertools.product(*options), MAX_READINGS)
    return [" ".join(combo) for combo in combos]


class SoundIndex:
    """Words indexed by sound: same_sound(word) finds indexed words read alike, of the same length."""

    def __init__(self, words: Iterable[str]):
        with gc_paused():
            self._exact = grouped((key, word) for word in set(words) for key in reading_keys(word))
        self._fuzzy: dict[str, list[str]] | None = None  # built on the first fuzzy question

    def same_sound(self, word: str, fuzzy_match: bool = False) -> list[str]:
        """Return the indexed words (other than word) that can be read as word is, sorted."""
        if fuzzy_match:
            table, keys = self._fuzzy_table(), {fuzzy(key) for key in reading_keys(word)}
        else:
            table, keys = self._exact, reading_keys(word)
        found = {other for key in keys for other in table.get(key, ())}
        found.discard(word)
        return sorted(found)

    def _fuzzy_table(self) -> dict[str, list[str]]:
        if self._fuzzy is None:
            self._fuzzy = grouped((fuzzy(key), word) for key, words in self._exact.items() for word in words)
        return self._fuzzy
