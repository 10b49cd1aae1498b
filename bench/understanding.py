"""Benchmark question understanding in process: today's engine beside the engine before the rewrite.

    .venv/bin/python bench/understanding.py                  # shipped corpus and 100k clauses (a few minutes)
    .venv/bin/python bench/understanding.py --clauses 0      # shipped corpus only
    .venv/bin/python bench/understanding.py --profile 25     # also cProfile today's engine, top 25 entries

Every question and follow-up turn of dev-colloquial.jsonl is answered in process without the
conversation-store write: today's engine through `QAEngine.answer(question, previous)` (pure), the
baseline (commit 25e4cfa, before the understanding rewrite) through its `ask` with its default
in-memory store, the only entry it has that resolves follow-ups (the store costs microseconds).
The baseline is unpacked from git into a temporary folder and runs in its own interpreter with that
folder first on sys.path, so the two engines never share a module; each engine gets its own vocabulary
files (userdict, stopwords, synonyms) with the same raw documents, and its index in a temporary folder.

Each (engine, corpus) runs in two fresh processes: one builds the index artifact (the first start),
one starts from it (a restart: cold start and RSS), warms up, then times every turn over --rounds
passes. Wall time is what a caller waits; CPU time (thread_time) is less disturbed by neighbours on a
shared machine. Compare ratios within one run. Results go to bench/understanding.md and .json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT.parent / "shared" / "eval" / "dev-colloquial.jsonl"
BASELINE = "25e4cfa"
# run.py's end-to-end corpus shape: 100 documents of 1000 clauses (ingest matches every headline
# against the whole catalog, so many small documents would measure that instead of the engine)
PER_SECTION, SECTIONS_PER_DOC = 20, 50
TARGETS_MS = {"shipped": 2.0, "synthetic": 5.0}  # issue 9: p99 of today's engine


# ---- the child: one engine, one corpus, in its own interpreter ----------------------------------
def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(job: dict) -> dict:
    """Start one engine from job['engine_root'] and time it; only stdlib is imported before it."""
    root = Path(job["engine_root"]).resolve()
    sys.path.insert(0, str(root))
    t0 = time.perf_counter()
    import service
    from service.qa import engine as qa

    if Path(service.__file__).resolve().parent != root / "service":
        raise RuntimeError(f"imported {service.__file__}, not the engine under {root}")
    imports_s = time.perf_counter() - t0
    rss_imports = rss_mb()
    t0 = time.perf_counter()
    engine = qa.QAEngine(Path(job["corpus"]), root / "prompts", index_dir=Path(job["index"]))
    out = {"construct_s": time.perf_counter() - t0, "imports_s": imports_s, "clauses": len(engine.clauses),
           "rss_imports_mb": rss_imports, "rss_load_mb": rss_mb()}
    if job["role"] == "build":
        return out
    conversations = job["conversations"]
    if hasattr(engine, "analyzer"):  # today's engine: answer() is pure, the previous turn is passed in
        from service.qa.conversation import Turn

        answer = engine.answer

        def after(question, a):
            return Turn(question, a.resolved_question, a.kind, a.answered, tuple(c.clause_id for c in a.citations))
    else:  # the baseline: ask() reads the previous turn from its in-memory store
        answer = engine.ask

        def after(question, a):
            return a.conversation_id

    def run(turns: list[str]) -> list[tuple[float, float, bool]]:
        """(wall s, CPU s, answered) per turn of one conversation; only the engine's call is timed."""
        state, timed = None, []
        for question in turns:
            wall, cpu = time.perf_counter(), time.thread_time()
            a = answer(question, state)
            timed.append((time.perf_counter() - wall, time.thread_time() - cpu, a.answered))
            state = after(question, a)
        return timed

    for turns in conversations[: job["warmup"]]:
        run(turns)
    wall, cpu, answered = [], [], 0
    for _ in range(job["rounds"]):
        for turns in conversations:
            for w, c, a in run(turns):
                wall.append(w * 1000)
                cpu.append(c * 1000)
                answered += a
    out.update(wall_ms=wall, cpu_ms=cpu, answered=answered / max(1, len(wall)), rss_after_mb=rss_mb())
    if job.get("profile"):
        out["profile"] = profile(lambda: [run(turns) for turns in conversations],
                                 job["profile"], str(root))
    return out


def profile(fn, top: int, root: str) -> str:
    """cProfile one pass: the top entries by own time and by cumulative time, paths relative to root."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.runcall(fn)
    text = []
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        body = buf.getvalue()
        text.append(body[body.index("   ncalls"):].replace(root + "/", "").rstrip())
    return "\n\n".join(text)


# ---- the parent ----------------------------------------------------------------------------------
def spawn(job: dict, work: Path) -> dict:
    job_file = work / "job.json"
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    log(f"{job['engine']} / {job['corpus_name']}: {job['role']}")
    # -I: neither the script's folder nor the environment's paths come before the engine's root
    done = subprocess.run([sys.executable, "-I", __file__, "--child", str(job_file)], capture_output=True,
                          text=True, cwd=job["engine_root"])
    if done.returncode:
        raise RuntimeError(f"{job['engine']} {job['role']} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pct(values: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), p))


def summary(build: dict, measured: dict) -> dict:
    wall, cpu = measured.pop("wall_ms"), measured.pop("cpu_ms")
    return {"clauses": measured["clauses"], "calls": len(wall), "first_start_s": build["construct_s"],
            "imports_s": measured["imports_s"], "cold_start_s": measured["construct_s"],
            "rss_imports_mb": measured["rss_imports_mb"], "rss_load_mb": measured["rss_load_mb"],
            "rss_after_mb": measured["rss_after_mb"], "answered": measured["answered"],
            **{f"p{p}_ms": pct(wall, p) for p in (50, 95, 99)}, "max_ms": max(wall),
            **{f"cpu_p{p}_ms": pct(cpu, p) for p in (50, 99)}, "profile": measured.get("profile")}


def unpack(commit: str, target: Path) -> None:
    """The baseline's tracked files at commit, outside any work tree."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


def markdown(result: dict) -> str:
    lines = [f"Run {result['started']} on {result['machine']}, load average {result['load'][0]:.1f} at start, "
             f"{result['load_end']:.1f} at end. {result['turns']} turns ({result['conversations']} conversations) of "
             f"`{result['questions']}`, {result['rounds']} timed rounds after {result['warmup']} warm-up "
             f"conversations; wall and CPU ms per `answer` call. Baseline: commit {result['baseline']}.", "",
             "| corpus | engine | clauses | p50 ms | p95 ms | p99 ms | max ms | CPU p50 / p99 ms | target p99 | "
             "cold start s (restart / first, with index build) | imports s | RSS after load MB | answered |",
             "|---|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|"]
    for row in result["rows"]:
        target = TARGETS_MS["synthetic" if row["synthetic"] else "shipped"]
        met = "met" if row["p99_ms"] <= target else "missed"
        verdict = f"≤ {target:g} ms: {met}" if row["engine"] == "today" else ""
        lines.append(
            f"| {row['corpus']} | {row['engine']} | {row['clauses']:,} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['max_ms']:.2f} | {row['cpu_p50_ms']:.2f} / {row['cpu_p99_ms']:.2f} | "
            f"{verdict} | {row['cold_start_s']:.2f} / {row['first_start_s']:.1f} | {row['imports_s']:.2f} | "
            f"{row['rss_load_mb']:.0f} | {row['answered']:.2f} |")
    lines.append("")
    for corpus in dict.fromkeys(r["corpus"] for r in result["rows"]):
        by = {r["engine"]: r for r in result["rows"] if r["corpus"] == corpus}
        if {"today", "baseline"} <= by.keys():
            t, b = by["today"], by["baseline"]
            lines.append(f"- {corpus}: today / baseline = {t['p50_ms'] / b['p50_ms']:.1f}× at p50, "
                         f"{t['p99_ms'] / b['p99_ms']:.1f}× at p99 (CPU {t['cpu_p99_ms'] / b['cpu_p99_ms']:.1f}×), "
                         f"{t['rss_load_mb'] / b['rss_load_mb']:.1f}× RSS.")
    for row in result["rows"]:
        if row.get("profile"):
            lines += ["", f"cProfile of today's engine, one pass over the turns, {row['corpus']}:", "", "```",
                      row["profile"], "```"]
    return "\n".join(lines) + "\n"


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--clauses", type=int, default=100_000, help="synthetic clauses added (0: shipped only)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over every turn")
    parser.add_argument("--warmup", type=int, default=10, help="conversations answered before timing")
    parser.add_argument("--baseline", default=BASELINE, help="commit of the engine to compare with")
    parser.add_argument("--profile", type=int, default=0, help="cProfile today's engine: top N entries")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "understanding"))
    args = parser.parse_args()

    rows = [json.loads(x) for x in args.questions.read_text(encoding="utf-8").splitlines() if x.strip()]
    conversations = [[t["question"] for t in r.get("turns") or [r]] for r in rows]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="policy-qa-bench-understanding-"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "baseline"
    shutil.rmtree(base, ignore_errors=True)
    unpack(args.baseline, base)
    engines = {"today": ROOT, "baseline": base}
    corpora = [("shipped", {name: root / "corpus" for name, root in engines.items()})]
    if args.clauses:
        sys.path.insert(0, str(ROOT))
        from bench.synth import Pieces, write_corpus
        from service.qa.tokenize import Tokenizer, Vocabulary

        pieces = Pieces.from_corpus(ROOT / "corpus", Tokenizer(Vocabulary.load(ROOT / "corpus")))
        dirs = {}
        for name, root in engines.items():  # the same synthetic documents, each engine's own vocabulary
            log(f"writing {args.clauses:,} synthetic clauses for {name}")
            dirs[name] = work / f"corpus-{name}-{args.clauses}"
            write_corpus(pieces, root / "corpus", dirs[name], args.clauses, per_section=PER_SECTION,
                         sections_per_doc=SECTIONS_PER_DOC)
        corpora.append((f"shipped + {args.clauses // 1000}k synthetic", dirs))

    result = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": os.getloadavg(),
              "machine": f"{os.cpu_count()} CPU, {os.uname().machine}", "baseline": args.baseline,
              "questions": args.questions.name, "conversations": len(conversations),
              "turns": sum(map(len, conversations)), "rounds": args.rounds, "warmup": args.warmup, "rows": []}
    for corpus_name, dirs in corpora:
        for name, root in engines.items():
            index = work / f"index-{name}-{len(result['rows'])}"
            shutil.rmtree(index, ignore_errors=True)
            job = {"engine": name, "engine_root": str(root), "corpus_name": corpus_name, "corpus": str(dirs[name]),
                   "index": str(index), "conversations": conversations, "rounds": args.rounds,
                   "warmup": args.warmup, "profile": args.profile if name == "today" else 0}
            build = spawn({**job, "role": "build"}, work)
            measured = spawn({**job, "role": "measure"}, work)
            shutil.rmtree(index, ignore_errors=True)
            row = {"corpus": corpus_name, "engine": name, "synthetic": corpus_name != "shipped",
                   **summary(build, measured)}
            result["rows"].append(row)
            log(json.dumps({k: v for k, v in row.items() if k != "profile"}))
    result["load_end"] = os.getloadavg()[0]
    Path(args.out + ".json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    text = markdown(result)
    Path(args.out + ".md").write_text(text, encoding="utf-8")
    print(text)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
