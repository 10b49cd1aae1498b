"""Benchmark the lexical resources: load time of each (in a fresh process) and cost per question.

    .venv/bin/python bench/lexicon.py [--questions ../shared/eval/dev-colloquial.jsonl]

Load times are CPU milliseconds in a fresh interpreter (wall time on a shared machine mostly
measures the neighbours); per-call costs are medians and 99th percentiles over the questions,
each question timed over repeated calls. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ROOT.parent / "shared" / "eval" / "dev-colloquial.jsonl"

LOADS = {
    "gazetteer": "from service.qa.places import Gazetteer; Gazetteer.load()",
    "thesaurus": "from service.qa.thesaurus import Thesaurus; Thesaurus.load()",
    "sound table": "from service.qa.sound import reading_keys; reading_keys('管护')",
    "numbers": "from service.qa.numbers import arabic; arabic('三十年')",
    "general IDF (lazy)": "from service.qa.general import general_idf; general_idf('护照')",
    "general dict (lazy)": "from service.qa.general import general_freq; general_freq('护照')",
    "median IDF (lazy)": "from service.qa.general import median_idf; median_idf()",
}

PROBE = """
import time, service.qa.loading
start = time.process_time()
{code}
print((time.process_time() - start) * 1000)
"""


def load_ms(code: str, runs: int = 3) -> float:
    """Return the fastest CPU time of code over runs fresh interpreters (service/ already imported)."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], capture_output=True, text=True, cwd=ROOT)
        times.append(float(out.stdout.strip()))
    return min(times)


def per_call_us(fn, questions: list[str], repeat: int = 50) -> tuple[float, float]:
    """Return (median, p99) microseconds per call over the questions."""
    costs = []
    for question in questions:
        start = time.perf_counter_ns()
        for _ in range(repeat):
            fn(question)
        costs.append((time.perf_counter_ns() - start) / repeat / 1000)
    costs.sort()
    return costs[len(costs) // 2], costs[min(len(costs) - 1, int(len(costs) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [row["question"] for row in rows if isinstance(row.get("question"), str)]

    from service.qa.general import general_idf
    from service.qa.numbers import arabic
    from service.qa.places import Gazetteer
    from service.qa.sound import SoundIndex
    from service.qa.thesaurus import Thesaurus

    gazetteer, thesaurus = Gazetteer.load(), Thesaurus.load()
    from service.qa.general import general_freq

    general_freq("的")  # jieba's dictionary: 50k of its words stand in for a corpus vocabulary
    from service.qa.general import _dict_table

    vocabulary = [w for w in sorted(_dict_table()) if len(w) > 1][::6][:50_000]
    start = time.process_time()
    sounds = SoundIndex(vocabulary)
    index_ms = (time.process_time() - start) * 1000

    print(f"{len(questions)} questions from {args.questions.name}\n")
    print("| resource | load (CPU ms, fresh process) |\n| --- | --- |")
    for name, code in LOADS.items():
        print(f"| {name} | {load_ms(code):.0f} |")
    print(f"| SoundIndex over {len(vocabulary)} words (after the sound table) | {index_ms:.0f} |")
    print("\n| call, per question | median µs | p99 µs |\n| --- | --- | --- |")
    calls = {
        "Gazetteer.find(question)": gazetteer.find,
        "arabic(question)": arabic,
        "synonyms of each bigram": lambda q: [thesaurus.synonyms(q[i : i + 2]) for i in range(len(q) - 1)],
        "general_idf of each bigram": lambda q: [general_idf(q[i : i + 2]) for i in range(len(q) - 1)],
        "same_sound of each bigram": lambda q: [sounds.same_sound(q[i : i + 2]) for i in range(len(q) - 1)],
    }
    for name, fn in calls.items():
        median, p99 = per_call_us(fn, questions)
        print(f"| {name} | {median:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
