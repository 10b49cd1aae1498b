"""The dev questions through the app in-process, scored exactly as shared/eval/run_eval.py scores them."""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

EVAL_DIR = Path(os.environ.get("POLICY_QA_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval"))
BAR = {"cite@1": 0.95, "answer": 0.95, "refusal": 1.0, "followup": 1.0, "faithful": 1.0}


def load_run_eval():
    spec = importlib.util.spec_from_file_location("run_eval", EVAL_DIR / "run_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run_eval():
    if not (EVAL_DIR / "run_eval.py").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared/eval not found at {EVAL_DIR}")
        pytest.skip(f"shared/eval not found at {EVAL_DIR}")
    return load_run_eval()


def test_dev_set_meets_the_bar(client, run_eval):
    items = run_eval.load_jsonl(EVAL_DIR / "dev.jsonl")
    corpus = [run_eval.norm(p.read_text(encoding="utf-8"))
              for p in sorted((Path(__file__).resolve().parents[1] / "corpus" / "raw").glob("*.txt"))]
    rows, faithful, n_cites = [], 0, 0
    for item in items:
        turns = item.get("turns") or [{"question": item["question"]}]
        conversation_id, payload = None, {}
        for turn in turns:
            body = {"question": turn["question"]}
            if conversation_id:
                body["conversation_id"] = conversation_id
            payload = client.post("/api/ask", data=json.dumps(body), content_type="application/json").get_json()
            conversation_id = payload.get("conversation_id") or conversation_id
        row = run_eval.score_one(item, payload)
        row["followup"] = len(turns) > 1
        rows.append(row)
        for text in run_eval.citation_texts(payload)[:3]:
            n_cites += 1
            faithful += any(text in doc for doc in corpus)

    def rate(key, pick):
        sel = [r for r in rows if pick(r)]
        return sum(bool(r[key]) for r in sel) / len(sel)

    single = lambda r: "cite1" in r and not r["followup"]  # noqa: E731
    summary = {
        "cite@1": rate("cite1", single),
        "answer": rate("answer_ok", single),
        "refusal": rate("refusal_ok", lambda r: "refusal_ok" in r),
        "followup": rate("answer_ok", lambda r: "cite1" in r and r["followup"]),
        "faithful": faithful / n_cites,
    }
    misses = [r["id"] for r in rows if not r.get("cite1", True) or not r.get("answer_ok", True)
              or not r.get("refusal_ok", True)]
    assert all(summary[k] >= v for k, v in BAR.items()), (summary, misses)
    assert rate("false_refusal", single) <= 0.05
