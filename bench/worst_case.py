#!/usr/bin/env python3
"""The cost of the worst questions a client can send, beside a normal one, in process (CPU ms, one run).

Issue 11 caps one question's cost: a worst-case 500-character input (one character repeated, one word
repeated, random rare characters, a long personal story with the subject at its end) at most 10× a normal
question. "Normal" is the median of dev-colloquial.jsonl's questions, measured in the same run.

  .venv/bin/python bench/worst_case.py
"""
from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.qa.engine import QAEngine  # noqa: E402

ROUNDS = 5


def cost(engine: QAEngine, question: str) -> float:
    engine.answer(question)  # warm: jieba's and the engine's caches
    t0 = time.process_time()
    for _ in range(ROUNDS):
        engine.answer(question)
    return (time.process_time() - t0) / ROUNDS * 1000


def main() -> int:
    engine = QAEngine(ROOT / "corpus", ROOT / "prompts")
    colloquial = ROOT.parent / "shared" / "eval" / "dev-colloquial.jsonl"
    questions = [json.loads(line)["question"] for line in colloquial.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    normal = statistics.median(cost(engine, q) for q in questions)
    rng = random.Random(1)
    worst = {
        "one character ×500 (和)": "和" * 500,
        "one word ×250 (和平)": "和平" * 250,
        "500 random rare characters": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(500)),
        "a 480-character story, then the question": ("我家在农村，" * 80)[:480] + "耕地保有量目标是多少？",
    }
    print(f"normal (median of {len(questions)} dev-colloquial questions): {normal:.2f} ms")
    print("| input | CPU ms | × normal |\n|---|---:|---:|")
    for name, question in worst.items():
        ms = cost(engine, question)
        print(f"| {name} | {ms:.2f} | {ms / normal:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
