"""Golden questions (tests/data/golden.jsonl): each bug fixed adds a line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

LINES = (Path(__file__).parent / "data" / "golden.jsonl").read_text("utf-8").splitlines()
GOLDEN = [json.loads(line) for line in LINES if line.strip()]


@pytest.mark.parametrize("case", GOLDEN, ids=[" -> ".join(c["turns"]) for c in GOLDEN])
def test_golden(engine, case):
    conversation = None
    for question in case["turns"]:
        answer = engine.ask(question, conversation)
        conversation = answer.conversation_id
    if case.get("refused"):
        assert not answer.answered and answer.kind == "refusal"
    elif case.get("kind"):
        assert answer.kind == case["kind"]
    else:
        assert answer.answered and len(answer.text) <= 300
        for fact in case["answer"]:
            assert fact in answer.text
