#!/usr/bin/env python3
"""Fit the answerability model on the 'fit' part of the shared question sets; report every part.

For each question it takes the engine's best reading (never refusing) and fits a logistic regression
(scikit-learn) on the readings' features to tell readings that cite the right evidence (the gold
passage first) from the rest (wrong passages, unanswerable questions). The threshold is then the
lowest at which at most 5% of the fit part's questions get a wrong answer: an answer to a question
the documents cannot answer, or one that misses an expected fact. Coefficients,
threshold, the sets and the date go to service/data/answerability.json.

  .venv/bin/python scripts/fit_answerability.py              # fit, write, report
  .venv/bin/python scripts/fit_answerability.py --report     # report the current model only

The split is run_eval.py's own (`part_of`: a fixed 70% of each set by id), so `run_eval.py --part
check` reports on questions this never saw.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.qa.conversation import Turn  # noqa: E402
from service.qa.engine import QAEngine  # noqa: E402
from service.qa.rank import FEATURES, MODEL_PATH, Answerability  # noqa: E402

SHARED = ROOT.parent / "shared"
# (question set, extra corpus folders loaded beside the seeds)
SETS = (("dev.jsonl", ()), ("dev-colloquial.jsonl", ()), ("dev-docs.jsonl", ("corpus-dev",)))
MAX_WRONG = 0.05


def load_run_eval():
    spec = importlib.util.spec_from_file_location("run_eval", SHARED / "eval" / "run_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus_with(extra: tuple[str, ...], tmp: Path) -> Path:
    """The shipped corpus, plus the named shared folders' documents added as `policy-qa add` would."""
    if not extra:
        return ROOT / "corpus"
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    for name in extra:
        for path in sorted((SHARED / name).iterdir()):
            if path.suffix.lower() in (".txt", ".md", ".html", ".htm"):
                shutil.copy(path, corpus / "raw" / path.name)
    return corpus


def converse(engine: QAEngine, questions: list[str]):
    """Ask the turns of one conversation in process; return the last turn's query, reading and answer."""
    previous = None
    for question in questions:
        query, prefer = engine.understand(question, previous)
        if query is None:
            return None, None, engine.answer(question, previous), False
        pick, cands = engine.read(query, prefer)
        answer = engine.answer(question, previous)
        previous = Turn(question, answer.resolved_question, answer.kind, answer.answered,
                        tuple(c.clause_id for c in answer.citations))
    forced = engine.compose(query, pick, cands) if pick is not None else None
    return pick, forced, answer, pick is not None and engine.gated(query, pick)


def collect(engine: QAEngine, items: list[dict], run_eval) -> list[dict]:
    rows = []
    for item in items:
        turns = [t["question"] for t in item.get("turns") or [{"question": item["question"]}]]
        pick, forced, answer, gated = converse(engine, turns)
        payload = answer.to_json()
        scored = run_eval.score_one(item, payload)
        label = 0
        if item.get("cite") is not None:
            # the reading's own answer; an outline is read from headings, not from a reading
            shown = answer if answer.kind == "outline" else forced
            forced_score = run_eval.score_one(item, shown.to_json()) if shown is not None else {}
            label = int(bool(forced_score.get("cite1")))
            right = int(bool(forced_score.get("answer_ok")))
        else:
            right = 0
        rows.append({"id": item["id"], "part": run_eval.part_of(item), "followup": len(turns) > 1,
                     "features": pick.reading.vector() if pick else None, "label": label, "right": right,
                     "gated": gated,
                     "scored": scored})
    return rows


def choose_threshold(probs: list[float], labels: list[int], total: int) -> float:
    """The lowest threshold at which at most MAX_WRONG of all the questions get a wrong answer.

    A wrong answer is an answered question whose answer misses an expected fact, or an answered
    question the documents cannot answer; `total` counts every question, refusals included."""
    pairs = sorted(zip(probs, labels, strict=True), reverse=True)
    best = 1.0
    wrong = 0
    for p, y in pairs:
        wrong += 1 - y
        if wrong > MAX_WRONG * total:
            break
        best = p
    return best


def summary(rows: list[dict]) -> dict:
    def rate(sel, key):
        sel = list(sel)
        return round(sum(bool(r["scored"].get(key)) for r in sel) / len(sel), 3) if sel else None
    single = [r for r in rows if "cite1" in r["scored"] and not r["followup"]]
    return {
        "n": len(rows), "cite@1": rate(single, "cite1"), "cite@3": rate(single, "cite3"),
        "answer": rate(single, "answer_ok"), "false_refusal": rate(single, "false_refusal"),
        "refusal": rate((r for r in rows if "refusal_ok" in r["scored"]), "refusal_ok"),
        "followup": rate((r for r in rows if "cite1" in r["scored"] and r["followup"]), "answer_ok"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--report", action="store_true", help="report the current model; fit nothing")
    ap.add_argument("--sets", nargs="*", default=[s for s, _ in SETS])
    ap.add_argument("--misses", action="store_true", help="print every miss")
    args = ap.parse_args(argv)
    run_eval = load_run_eval()
    model = Answerability.load() if args.report else Answerability([0.0] * len(FEATURES), 0.0, 0.0)
    rows_by_set: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engines: dict[tuple[str, ...], QAEngine] = {}
        for name, extra in SETS:
            if name not in args.sets:
                continue
            path = SHARED / "eval" / name
            if not path.exists():
                continue
            if extra not in engines:
                engines[extra] = QAEngine(corpus_with(extra, Path(tmp)), ROOT / "prompts", model=model)
            rows_by_set[name] = collect(engines[extra], run_eval.load_jsonl(path), run_eval)
    if not args.report:
        from sklearn.linear_model import LogisticRegression

        fit = [r for rows in rows_by_set.values() for r in rows if r["part"] == "fit" and r["features"]]
        x = [r["features"] for r in fit]
        y = [r["label"] for r in fit]
        clf = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
        # a gated reading is refused whatever the model says: it never counts as an answer
        probs = [0.0 if r["gated"] else p for r, p in zip(fit, clf.predict_proba(x)[:, 1].tolist(), strict=True)]
        total = sum(1 for rows in rows_by_set.values() for r in rows if r["part"] == "fit")
        threshold = choose_threshold(probs, [r["right"] for r in fit], total)
        data = {
            "features": list(FEATURES), "coef": [round(c, 6) for c in clf.coef_[0].tolist()],
            "intercept": round(float(clf.intercept_[0]), 6), "threshold": round(threshold, 6),
            "fitted_on": {name: sum(1 for r in rows if r["part"] == "fit") for name, rows in rows_by_set.items()},
            "part": "fit (run_eval.part_of)", "max_wrong": MAX_WRONG, "date": dt.date.today().isoformat(),
            "positives": int(sum(y)), "readings": len(y),
        }
        MODEL_PATH.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH}: {json.dumps({k: data[k] for k in ('coef', 'intercept', 'threshold')})}")
        return main(["--report", "--sets", *args.sets] + (["--misses"] if args.misses else []))
    for name, rows in rows_by_set.items():
        for part in ("fit", "check", "all"):
            sel = [r for r in rows if part == "all" or r["part"] == part]
            print(f"{name:<22} {part:<6} {json.dumps(summary(sel))}")
        if args.misses:
            for r in rows:
                s = r["scored"]
                bad = [k for k in ("cite1", "answer_ok", "refusal_ok") if k in s and not s[k]]
                if bad:
                    print(f"  MISS {r['id']} {r['part']} {bad} {s['question'][:50]} -> {s['answer'][:90]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
