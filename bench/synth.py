"""Synthetic corpora of any size from the shipped corpus's real sentences (so term statistics look like policy text)."""
from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from service.qa.ingest import ingest
from service.qa.tokenize import Tokenizer

# A sentence with its closing mark: concatenating such sentences never joins two of jieba's Han runs,
# so a clause's tokens are exactly its sentences' tokens in order (checked in Pieces.check).
SENTENCE_RE = re.compile(r"[^。！？；]+[。！？；]")
CN = "一二三四五六七八九十"


@dataclass
class Pieces:
    sections: list[str]
    sentences: list[str]
    section_tokens: list[list[str]]
    sentence_tokens: list[list[str]]

    @classmethod
    def from_corpus(cls, corpus_dir: Path, tokenizer: Tokenizer) -> Pieces:
        clauses = ingest(corpus_dir).clauses
        sentences = sorted({s for c in clauses for s in SENTENCE_RE.findall(c.text) if len(s) >= 8})
        sections = sorted({re.sub(rf"^[{CN}]+、", "", c.section) for c in clauses if c.section} - {"引言"})
        sections = [s for s in sections if 4 <= len(s) <= 20 and not re.search(r"[“”，]", s)]
        return cls(sections, sentences, [tokenizer.tokens(s) for s in sections],
                   [tokenizer.tokens(s) for s in sentences])

    def check(self, tokenizer: Tokenizer, clauses: list[tuple[int, tuple[int, ...]]], n: int = 300) -> None:
        """Composed token lists equal tokenizing the composed text (so no corpus needs tokenizing)."""
        for clause in clauses[:n]:
            if self.tokens(clause) != tokenizer.tokens(self.text(clause)):
                raise AssertionError(f"token composition differs for {self.text(clause)[:60]}")

    def text(self, clause: tuple[int, tuple[int, ...]]) -> str:
        section, sents = clause
        return f"{self.sections[section]}\n" + "".join(self.sentences[i] for i in sents)

    def tokens(self, clause: tuple[int, tuple[int, ...]]) -> list[str]:
        section, sents = clause
        out = list(self.section_tokens[section])
        for i in sents:
            out.extend(self.sentence_tokens[i])
        return out

    def counts(self, clause: tuple[int, tuple[int, ...]]) -> tuple[int, Counter[str]]:
        tokens = self.tokens(clause)
        return len(tokens), Counter(tokens)


def make_clauses(pieces: Pieces, n: int, seed: int = 6) -> list[tuple[int, tuple[int, ...]]]:
    """n clauses: a section heading and 1-7 sentences (about the shipped corpus's mean clause length)."""
    rng = random.Random(seed)
    n_sec, n_sent = len(pieces.sections), len(pieces.sentences)
    out = []
    for _ in range(n):
        k = rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6, 7))
        out.append((rng.randrange(n_sec), tuple(rng.randrange(n_sent) for _ in range(k))))
    return out


def cn_number(i: int) -> str:
    """1..99 in Chinese numerals, as clause and section numbers are printed."""
    tens, ones = divmod(i, 10)
    if not tens:
        return CN[ones - 1]
    return ("" if tens == 1 else CN[tens - 1]) + "十" + (CN[ones - 1] if ones else "")


def write_corpus(pieces: Pieces, source: Path, target: Path, n_clauses: int, seed: int = 6,
                 per_section: int = 10, sections_per_doc: int = 10) -> None:
    """A corpus folder ingest() reads: one raw file and catalog entry per synthetic document."""
    clauses = make_clauses(pieces, n_clauses, seed)
    if target.exists():
        shutil.rmtree(target)
    (target / "raw").mkdir(parents=True)
    for name in ("userdict.txt", "stopwords.txt", "synonyms.toml"):
        shutil.copy(source / name, target / name)
    catalog = [(source / "documents.toml").read_text(encoding="utf-8")]
    for raw in sorted((source / "raw").glob("*.txt")):
        shutil.copy(raw, target / "raw" / raw.name)
    per_doc = per_section * sections_per_doc
    for d in range(0, len(clauses), per_doc):
        doc = d // per_doc + 1
        title = f"合成政策文件第{doc}号"
        lines = [title, ""]
        for s in range(0, min(per_doc, len(clauses) - d), per_section):
            chunk = clauses[d + s : d + s + per_section]
            lines.append(f"{cn_number(s // per_section + 1)}、{pieces.sections[chunk[0][0]]}")
            for j, (_sec, sents) in enumerate(chunk):
                lines.append(f"（{cn_number(j + 1)}）" + "".join(pieces.sentences[i] for i in sents))
                lines.append("")
        (target / "raw" / f"9{doc:06d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        catalog.append(f'\n[[document]]\nid = "synth-{doc}"\ntitle = "{title}"\nissuer = "基准测试"\n'
                       f'date = "2025-01-01"\nkind = "policy"\n')
    (target / "documents.toml").write_text("".join(catalog), encoding="utf-8")
