"""Golden questions (tests/data/golden.jsonl): each bug fixed adds a line.

No line copies a question of a shared development set. An answered line checks the answer's facts
and that they stand in the clause cited first (the answer is read from it, not from elsewhere);
"not" lists what the answer must never say; "why" says what the line pins; "xfail" names a known
miss (strict: the line fails loudly once it passes, so it can be promoted)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.qa.ingest import fold

LINES = (Path(__file__).parent / "data" / "golden.jsonl").read_text("utf-8").splitlines()
GOLDEN = [json.loads(line) for line in LINES if line.strip()]


CASES = [
    pytest.param(c, id=" -> ".join(c["turns"]),
                 marks=[pytest.mark.xfail(strict=True, reason=c["xfail"])] if c.get("xfail") else [])
    for c in GOLDEN
]


@pytest.mark.parametrize("case", CASES)
def test_golden(engine, case):
    conversation = None
    for question in case["turns"]:
        answer = engine.ask(question, conversation)
        conversation = answer.conversation_id
    if case.get("refused"):
        assert not answer.answered and answer.kind == "refusal"
        return
    if case.get("kind"):
        assert answer.kind == case["kind"]
        return
    assert answer.answered and len(answer.text) <= 300
    first = answer.citations[0]
    cited = fold(first.text + first.section + first.document)
    for fact in case["answer"]:
        assert fact in answer.text
        assert fold(fact) in cited, f"{fact} is not in the clause cited first"
    for wrong in case.get("not", []):
        assert wrong not in answer.text
