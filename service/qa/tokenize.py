"""One jieba tokenizer, with the domain dictionary, shared by the index and the question."""
from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import jieba
import jieba.posseg
import opencc
import tomllib

PUNCT_RE = re.compile(r"^[\W_]+$")
YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
SHORT_TEXT = 32  # characters: question words and terms, not clauses
SHORT_CACHE = 50_000

jieba.setLogLevel(logging.WARNING)


def normalize(text: str) -> str:
    """NFKC (full-width digits, letters, brackets), collapse whitespace, lower-case Latin."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class Vocabulary:
    """The data files that shape tokenization, recorded so an index knows what built it."""

    userdict: Path
    stopwords: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]  # each word of an equivalence group -> the others

    @classmethod
    def load(cls, corpus_dir: Path) -> Vocabulary:
        stop = frozenset(
            w.strip() for w in (corpus_dir / "stopwords.txt").read_text(encoding="utf-8").splitlines()
            if w.strip() and not w.startswith("#")
        )
        data = tomllib.loads((corpus_dir / "synonyms.toml").read_text(encoding="utf-8"))
        synonyms: dict[str, tuple[str, ...]] = {}
        for group in data.get("equivalent", {}).get("groups", []):
            words = [normalize(w) for w in group]
            for w in words:
                synonyms[w] = tuple(dict.fromkeys((*synonyms.get(w, ()), *(o for o in words if o != w))))
        return cls(corpus_dir / "userdict.txt", stop, synonyms)


class Tokenizer:
    """jieba with the user dictionary, stopwords and synonyms; safe to share read-only."""

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        self._jieba = jieba.Tokenizer()
        with open(vocab.userdict, "rb") as f:  # jieba leaves a path it opened unclosed
            self._jieba.load_userdict(f)
        self._jieba.initialize()
        for word in vocab.synonyms:  # a domain term of an equivalence is one word, never split (城市化率)
            if len(word) > 1 and not word.isascii():
                self._jieba.add_word(word, freq=None, tag="n")
        self._pos = jieba.posseg.POSTokenizer(self._jieba)
        self._t2s = opencc.OpenCC("t2s")
        # answering re-tokenizes the same few words per candidate passage (~70% of a question's time):
        # short texts are remembered, per process, bounded
        self._short_tokens = functools.lru_cache(maxsize=SHORT_CACHE)(lambda text: tuple(self._cut(text)))

    def simplify(self, text: str) -> str:
        """Traditional to simplified, then normalize()."""
        return normalize(self._t2s.convert(text))

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens without punctuation or stopwords (for BM25)."""
        if len(text) <= SHORT_TEXT:
            return list(self._short_tokens(text))
        return self._cut(text)

    def _cut(self, text: str) -> list[str]:
        text = normalize(text)
        return [
            t for t in self._jieba.cut_for_search(text)
            if t.strip() and not PUNCT_RE.match(t) and t not in self.vocab.stopwords
        ]

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """(word, part of speech) pairs of a question, punctuation removed.

        Words come from jieba's segmenter (its small HMM joins unknown characters into words) and take
        their part of speech from the dictionary; a word it does not know is tagged "x". jieba's POS HMM
        would tag unknown words better, but costs about 2 ms a character it does not know: a 500-character
        question of rare characters took a second, 1,000 times a normal one."""
        tags = self._pos.word_tag_tab
        return [(w, tags.get(w, "x")) for w in self._jieba.cut(normalize(text))
                if w.strip() and not PUNCT_RE.match(w)]

    def is_stopword(self, word: str) -> bool:
        return word in self.vocab.stopwords

    def fingerprint(self) -> dict:
        return {
            "tokenizer": f"jieba {jieba.__version__} cut_for_search",
            "userdict": self.vocab.userdict.name,
            "userdict_bytes": self.vocab.userdict.stat().st_size,
            "stopwords": len(self.vocab.stopwords),
        }


def years(text: str) -> list[str]:
    """Four-digit years named in a text ("2024年" -> "2024")."""
    return YEAR_RE.findall(normalize(text))
