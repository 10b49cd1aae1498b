"""Generate a jieba user dictionary from the corpus itself: the terms jieba's own dictionary splits.

Usage: python3 scripts/build_userdict.py [--corpus corpus] [--out corpus/userdict.txt]

A candidate is a run of two or more of jieba's default tokens (3-6 Chinese characters) that
- starts and ends on a token boundary of jieba's default segmentation where it occurs, and
- occurs in at least MIN_UNITS distinct clauses, headings or titles (MIN_HEADED when one of them is
  a document title or section heading, where a document names its subjects), and
- is noun-like by jieba's own part-of-speech tags: no function word (particle, preposition,
  conjunction, pronoun, adverb, numeral, measure word, locative), a nominal first token and a
  nominal head (or a verb of two characters right after a noun: 耕地保护), and whole words at both
  ends (a one-character end is a fragment of a neighbour: 耕地占, 部门要, 养老托), and
- is not a mere part of a longer such noun phrase (up to 10 characters), found in every unit it is
  (标准农田 inside 高标准农田, 时代中国特色 inside 习近平新时代中国特色社会主义思想).
Each word gets the frequency jieba needs to keep it whole (Tokenizer.suggest_freq). No hand entries.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import defaultdict
from pathlib import Path

import jieba
import jieba.posseg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.qa.ingest import ingest  # noqa: E402

MIN_LEN, MAX_LEN = 3, 6
LONGEST_RUN = 10  # longer runs are counted only to find fragments
MIN_UNITS = 3
MIN_HEADED = 2
HAN = re.compile(r"[\u4e00-\u9fff]+")
FUNCTION_TAGS = ("u", "p", "c", "r", "d", "y", "e", "o", "m", "q", "f", "x", "z", "t", "ad")
NOUN_TAGS = {"n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "ng", "j", "vn"}
FIRST_TAGS = NOUN_TAGS | {"l", "b", "a", "an", "s"}
NUMBERED = re.compile(r"^[（(]?[一二三四五六七八九十百零〇\d]+[）)、.．]\s*")

jieba.setLogLevel(logging.WARNING)


def units(corpus_dir: Path) -> list[tuple[str, bool]]:
    """Return (text, is_heading) for every clause, distinct section heading and document title."""
    report = ingest(corpus_dir)
    out = [(clause.text, False) for clause in report.clauses]
    headings = {NUMBERED.sub("", clause.section) for clause in report.clauses} | {d.title for d in report.documents}
    out += [(heading, True) for heading in sorted(headings) if heading]
    return out


def nominal(pieces: list[str], tags: list[str]) -> bool:
    """Tell whether tokens with these dictionary tags make a noun phrase with whole words at both ends."""
    if len(pieces[0]) < 2 or len(pieces[-1]) < 2 or any(tag.startswith(FUNCTION_TAGS) for tag in tags):
        return False
    head_ok = tags[-1] in NOUN_TAGS or (tags[-1] == "v" and tags[-2] in NOUN_TAGS)
    return tags[0] in FIRST_TAGS and head_ok


def candidates(texts: list[tuple[str, bool]], tokenizer: jieba.Tokenizer) -> dict[str, set[int]]:
    """Map each boundary-aligned multi-token run of 3-6 Chinese characters to the units holding it."""
    seen: dict[str, set[int]] = defaultdict(set)
    for number, (text, _) in enumerate(texts):
        for run in HAN.findall(text):
            tokens = list(tokenizer.cut(run, HMM=False))
            starts = [0]
            for token in tokens:
                starts.append(starts[-1] + len(token))
            for i in range(len(tokens)):
                for j in range(i + 2, len(tokens) + 1):
                    size = starts[j] - starts[i]
                    if size > LONGEST_RUN:
                        break
                    if size >= MIN_LEN:
                        seen[run[starts[i] : starts[j]]].add(number)
    return seen


def select(texts: list[tuple[str, bool]], tokenizer: jieba.Tokenizer) -> dict[str, int]:
    """Return the chosen words with the number of units holding each."""
    tags = jieba.posseg.POSTokenizer(tokenizer).word_tag_tab
    seen = candidates(texts, tokenizer)
    phrases: dict[str, int] = {}  # noun phrases up to LONGEST_RUN, repeated at least MIN_HEADED times
    for gram, where in seen.items():
        if len(where) >= MIN_HEADED:
            pieces = list(tokenizer.cut(gram, HMM=False))
            if len(pieces) > 1 and nominal(pieces, [tags.get(piece, "x") for piece in pieces]):
                phrases[gram] = len(where)
    kept: dict[str, int] = {}
    for gram, count in phrases.items():
        headed = any(texts[n][1] for n in seen[gram])
        if len(gram) > MAX_LEN or count < (MIN_HEADED if headed else MIN_UNITS):
            continue
        if any(len(o) > len(gram) and gram in o and n >= count for o, n in phrases.items()):
            continue
        kept[gram] = count
    return kept


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--out", type=Path, default=None, help="default: CORPUS/userdict.txt")
    args = parser.parse_args(argv)
    out = args.out or args.corpus / "userdict.txt"
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    texts = units(args.corpus)
    words = select(texts, tokenizer)
    with open(out, "w", encoding="utf-8") as handle:
        for word in sorted(words, key=lambda w: (-words[w], w)):
            handle.write(f"{word} {tokenizer.suggest_freq(word, tune=False) + 1} n\n")
    print(f"{len(words)} words from {len(texts)} clauses, headings and titles -> {out}")


if __name__ == "__main__":
    main()
