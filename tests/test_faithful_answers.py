"""Every answer the engine gives to the shared development questions states only what its citation says.

For each answered question of every shared set (asked in process, follow-ups as conversations):
the fact the answer states is a span of the cited passage (whitespace and width folded), and it
never cuts a list — it neither starts nor ends inside a "、" list, and a "分别…" piece is whole."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from service.qa.engine import QAEngine
from service.qa.ingest import fold

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POLICY_QA_SHARED_DIR", ROOT.parent / "shared"))
SETS = {"dev.jsonl": (), "dev-colloquial.jsonl": (), "dev-docs.jsonl": ("corpus-dev",)}


def _missing() -> None:
    if os.environ.get("CI"):
        pytest.fail(f"shared/ not found at {SHARED}")
    pytest.skip(f"shared/ not found at {SHARED}")


@pytest.fixture(scope="module")
def engines(engine, tmp_path_factory):
    """The shipped corpus's engine, and one with the development documents added."""
    if not (SHARED / "eval").is_dir():
        _missing()
    corpus = tmp_path_factory.mktemp("corpus-dev") / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    for path in sorted((SHARED / "corpus-dev").iterdir()):
        if path.suffix in (".txt", ".md", ".html"):
            shutil.copy(path, corpus / "raw" / path.name)
    return {(): engine, ("corpus-dev",): QAEngine(corpus, ROOT / "prompts", lexicon=engine.lexicon)}


def _answers(engine: QAEngine, name: str):
    for line in (SHARED / "eval" / name).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        conversation = None
        for turn in item.get("turns") or [{"question": item["question"]}]:
            answer = engine.ask(turn["question"], conversation)
            conversation = answer.conversation_id
            yield turn["question"], answer


@pytest.mark.parametrize("name", sorted(SETS))
def test_answers_state_only_what_their_citation_says(engines, name):
    checked = 0
    for question, answer in _answers(engines[SETS[name]], name):
        if not answer.answered or answer.kind == "outline":
            continue
        for fact, citation in zip(answer.extra["facts"], answer.citations, strict=False):
            passage, span = fold(citation.text), fold(fact)
            assert span in passage, (question, fact)
            sentence = fold(citation.sentence) or passage
            at = sentence.find(span)
            if at < 0:
                continue
            before, after = sentence[:at], sentence[at + len(span):]
            assert not before.endswith("、") and not after.startswith("、"), (question, fact, "cuts a list")
            if "分别" in span:
                assert not after or after[0] in "，,；;。：:！？!?", (question, fact, "cuts a 分别 list")
            checked += 1
    assert checked > 10
