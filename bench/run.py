"""Benchmark: rank-bm25 BM25Okapi vs the serving index (and bm25s if installed), then the service end to end.

    .venv/bin/python bench/run.py                      # 1k, 10k, 100k, 1M clauses + end to end (about 8 min)
    .venv/bin/python bench/run.py --sizes 1000,10000 --no-e2e

Corpora are made by recombining the shipped corpus's real sentences under its real section headings;
the queries are the dev questions as the engine tokenizes them. Every number of one run comes from
the same machine state, so compare ratios within a run. Results go to bench/results.md and .json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.synth import Pieces, make_clauses, write_corpus  # noqa: E402
from service.qa.index import ClauseIndex, build_arrays  # noqa: E402

DEV = Path(os.environ.get("POLICY_QA_DEV", ROOT.parent / "shared/eval/dev.jsonl"))
K = 10


# ---- measuring helpers ------------------------------------------------------------------
def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p)) if values else float("nan")


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def okapi_top(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """BM25Okapi's top k the way the old ClauseIndex read it: best first, ties by index, positive only."""
    order = np.lexsort((np.arange(scores.size), -scores))[:k]
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def agreement(ref: list[list[tuple[int, float]]], got: list[list[tuple[int, float]]]) -> dict:
    """Share of queries with the identical top-k list, mean set overlap, worst relative score difference."""
    same = overlap = 0
    worst = 0.0
    for r, g in zip(ref, got, strict=True):
        same += [i for i, _ in r] == [i for i, _ in g]
        overlap += len({i for i, _ in r} & {i for i, _ in g}) / len(r) if r else not g
        ref_scores = dict(r)
        for i, s in g:
            if i in ref_scores:
                worst = max(worst, abs(s - ref_scores[i]) / max(abs(ref_scores[i]), 1e-12))
    n = max(1, len(ref))
    return {"identical": same / n, "overlap": overlap / n, "max_rel_diff": worst, "queries": len(ref)}


def dev_queries(engine) -> list[list[str]]:
    """Every dev question (and follow-up turn) as the engine's BM25 query tokens."""
    out = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        for turn in item.get("turns") or [{"question": item["question"]}]:
            q = engine.tokenizer.simplify(turn["question"])
            tokens = list(engine.analyzer.analyze(q).tokens)
            if tokens:
                out.append(tokens)
    return out


# ---- one contender per fresh process (so RSS deltas are its own) --------------------------------
def child(role: str, job_file: str) -> None:
    """Child process: build or load one index for job['n'] clauses, time it, print one JSON line."""
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    n, queries, rounds, folder = job["n"], job["queries"], job["rounds"], Path(job.get("folder", "."))
    out: dict = {}
    if role in ("serving-build", "bm25s-build", "okapi"):
        from service.qa.tokenize import Tokenizer, Vocabulary

        pieces = Pieces.from_corpus(ROOT / "corpus", Tokenizer(Vocabulary.load(ROOT / "corpus")))
        clauses = make_clauses(pieces, n)
    if role == "serving-build":
        t0 = time.perf_counter()
        terms, arrays = build_arrays(pieces.counts(c) for c in clauses)
        index = ClauseIndex.from_arrays(list(range(n)), {}, terms, arrays)
        out["build_s"] = time.perf_counter() - t0
        index.save(folder, {"bench": True})
    elif role == "serving-probe":
        warm = folder.with_name("warm-up")  # compile numba for mapped arrays before measuring
        ClauseIndex(list(range(3)), [["a", "b"], ["b"], ["c"]], {}).save(warm, {})
        ClauseIndex.load(warm, list(range(3)), {}).search(["a"], 1)
        base = rss_mb()
        t0 = time.perf_counter()
        index = ClauseIndex.load(folder, list(range(n)), {})
        out["load_s"] = time.perf_counter() - t0
        out["rss_load_mb"] = rss_mb() - base
        out["results"] = [index.search(q, K) for q in queries]
        out.update(timed(lambda q: index.search(q, K), queries, rounds))
        out["rss_mb"] = rss_mb() - base
    elif role == "bm25s-build":
        import bm25s

        t0 = time.perf_counter()
        retriever = bm25s.BM25(k1=1.5, b=0.75, method="atire", idf_method="robertson", backend="numba")
        retriever.index([pieces.tokens(c) for c in clauses], show_progress=False)
        out["build_s"] = time.perf_counter() - t0
        retriever.save(str(folder))
    elif role == "bm25s-probe":
        import bm25s

        warm = bm25s.BM25(backend="numba")  # compile before measuring
        warm.index([["a", "b"], ["b"]], show_progress=False)
        warm.retrieve([["a"]], k=1, show_progress=False, n_threads=1)
        base = rss_mb()
        retriever = bm25s.BM25.load(str(folder), mmap=True)
        retriever.backend = "numba"
        vocab = retriever.vocab_dict

        def top(q):
            known = [t for t in q if t in vocab]
            if not known:
                return []
            docs, scores = retriever.retrieve([known], k=min(K, n), show_progress=False, n_threads=1)
            return [(int(d), float(x)) for d, x in zip(docs[0], scores[0], strict=True) if x > 0]

        out["results"] = [top(q) for q in queries]
        out.update(timed(top, queries, rounds))
        out["rss_mb"] = rss_mb() - base
    elif role == "okapi":
        from rank_bm25 import BM25Okapi

        base = rss_mb()
        t0 = time.perf_counter()
        okapi = BM25Okapi(pieces.tokens(c) for c in clauses)  # a generator: only the index stays
        out["build_s"] = time.perf_counter() - t0
        out["rss_mb"] = rss_mb() - base
        sample = [queries[j] for j in job["sample"]]
        out["results"] = [okapi_top(okapi.get_scores(q), K) for q in sample]
        out.update(timed(lambda q: okapi.get_scores(q), sample, 1))
        out["queries"] = len(sample)
    print(json.dumps(out))


def timed(search, queries, rounds: int) -> dict:
    times = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99)}


def spawn(role: str, job: dict, work: Path) -> dict:
    job_file = work / "job.json"
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    log(f"[{job['n']}] {role}")
    done = subprocess.run([sys.executable, __file__, "--child", role, str(job_file)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{role} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_size(queries: list[list[str]], n: int, work: Path, args) -> dict:
    row: dict = {"clauses": n}
    sample = list(range(len(queries)))
    if n >= args.okapi_full_max:
        step = max(1, len(queries) // args.okapi_sample)
        sample = sample[::step][: args.okapi_sample]
    job = {"n": n, "queries": queries, "rounds": args.rounds, "sample": sample}
    folder = work / f"index-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    serving = spawn("serving-build", {**job, "folder": str(folder)}, work)
    serving["disk_mb"] = dir_mb(folder)
    serving.update(spawn("serving-probe", {**job, "folder": str(folder)}, work))
    shutil.rmtree(folder)
    serving_results = serving.pop("results")
    row["serving"] = serving
    okapi = spawn("okapi", job, work)
    ref = okapi.pop("results")
    row["okapi"] = okapi
    row["agreement"] = agreement(ref, [serving_results[j] for j in sample])
    if not args.no_bm25s:
        folder = work / f"bm25s-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        try:
            b = spawn("bm25s-build", {**job, "folder": str(folder)}, work)
            b["disk_mb"] = dir_mb(folder)
            b.update(spawn("bm25s-probe", {**job, "folder": str(folder)}, work))
            results = b.pop("results")
            row["bm25s"] = b
            row["agreement_bm25s"] = agreement(ref, [results[j] for j in sample])
        except RuntimeError as exc:  # bm25s is optional (pip install -e '.[bench]')
            row["bm25s"] = {"skipped": str(exc)[-300:]}
        shutil.rmtree(folder, ignore_errors=True)
    row["speedup_p50"] = row["okapi"]["p50_ms"] / row["serving"]["p50_ms"]
    log(f"[{n}] {json.dumps(row)}")
    return row


# ---- end to end -------------------------------------------------------------------------------
def procfile_command() -> str:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    # gunicorn.conf.py logs every request; wrk's hundreds a second would measure the log
    return line.split(":", 1)[1].strip().replace("--access-logfile -", "") + " --access-logfile /dev/null"


def ask(port: int, question: str, timeout: float = 30) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", method="POST",
                                 data=json.dumps({"question": question}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def start_service(env_extra: dict, port: int, log_path: Path) -> tuple[subprocess.Popen, float]:
    """Start the Procfile's gunicorn; seconds until the first question is answered."""
    # one wrk client sends far more than a client's rate limit: the benchmark measures answers, not 429s
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2", "POLICY_QA_RATE_LIMIT": "10000000 per minute",
           "POLICY_QA_RATE_LIMIT_OTHER": "10000000 per minute", **env_extra,
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(["bash", "-c", "exec " + procfile_command()], cwd=ROOT, env=env,
                            stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = t0 + 900
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            if ask(port, "耕地保有量目标是多少？", timeout=5).get("answered"):
                return proc, time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("service did not answer in time")


def stop_service(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def workers_memory(proc: subprocess.Popen) -> dict:
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return {"master_rss_mb": rss_mb(proc.pid), "worker_rss_mb": [rss_mb(c) for c in children],
            "worker_pss_mb": [pss_mb(int(c)) for c in children]}


STARTUP = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from service.config import load_settings
from service.qa import engine as qa, generations, index
s = load_settings()
t1 = time.perf_counter()
parts = {}
def timed(name, f, once=False):
    def run(*a, **k):
        t = time.perf_counter(); r = f(*a, **k)
        if not (once and name in parts):
            parts[name] = parts.get(name, 0) + time.perf_counter() - t
        return r
    return run
generations.ingest = timed("ingest_s", generations.ingest)
generations.load_generation = timed("generation_load_s", generations.load_generation)
generations._load_report = timed("unpickle_s", generations._load_report)
index.ClauseIndex.search = timed("numba_s", index.ClauseIndex.search, once=True)  # the warm-up search compiles
qa.QAEngine(Path(s["CORPUS_DIR"]), Path(s["PROMPTS_DIR"]), index_dir=Path(s["INDEX_DIR"]) if s["INDEX_DIR"] else None)
t2 = time.perf_counter()
# CPU seconds of this process (imports included): what the start costs whatever else runs on the machine
print(json.dumps({"imports_s": t1 - t0, "engine_s": t2 - t1, "cpu_s": time.process_time(), **parts}))
"""

SWITCH = """
import gc, json, time
from pathlib import Path
from service.config import load_settings
from service.qa import engine as qa

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

s = load_settings()
args = (Path(s["CORPUS_DIR"]), Path(s["PROMPTS_DIR"]))
old = qa.QAEngine(*args, index_dir=Path(s["INDEX_DIR"]))
before = rss()
t = time.perf_counter()
new = qa.QAEngine(*args, index_dir=Path(s["INDEX_DIR"]), store=old.store, resources=old)
build = time.perf_counter() - t
both = rss()
del old
gc.collect()
print(json.dumps({"switch_build_s": build, "rss_one_mb": before, "rss_both_mb": both, "rss_after_mb": rss()}))
"""

INGEST = """
import json, sys, time
from pathlib import Path
from service.config import load_settings
from service.qa.ingest import ingest
s = load_settings()
t = time.perf_counter()
report = ingest(Path(s["CORPUS_DIR"]))
print(json.dumps({"ingest_s": time.perf_counter() - t, "documents": len(report.documents)}))
"""


def startup_parts(env: dict, script: str = STARTUP) -> dict:
    """Where a start goes, in a fresh process: imports, the engine, and within it ingest or the generation load."""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cold_start(name: str, corpus_dir: Path | None, work: Path, port: int) -> list[dict]:
    """Start with a published generation (no ingest): numba's cache warm and cold; and what ingest alone costs."""
    index_dir = work / f"cold-index-{name}"
    shutil.rmtree(index_dir, ignore_errors=True)
    numba_warm = work / "numba-cache"
    env = {"POLICY_QA_INDEX_DIR": str(index_dir), "POLICY_QA_LOG_LEVEL": "WARNING", "NUMBA_CACHE_DIR": str(numba_warm)}
    if corpus_dir:
        env["POLICY_QA_CORPUS_DIR"] = str(corpus_dir)
    log(f"[cold {name}] build-index")
    subprocess.run([sys.executable, "-m", "service.cli", "build-index"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, capture_output=True)
    pointer = json.loads((index_dir / "CURRENT").read_text())
    ingest = startup_parts(env, INGEST)
    switch = startup_parts(env, SWITCH)
    rows = []
    for state in ("warm", "cold"):
        run_env = dict(env)
        if state == "cold":
            run_env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-", dir=work)
        log(f"[cold {name}] numba cache {state}")
        row = {"corpus": name, "clauses": pointer["clauses"], "documents": pointer["documents"], "numba_cache": state,
               "load": os.getloadavg()[0], "uncached_ingest_s": ingest["ingest_s"], **switch,
               **startup_parts(run_env)}
        if state == "cold":
            run_env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-", dir=work)
        proc, row["first_answer_s"] = start_service(run_env, port, work / f"gunicorn-cold-{name}.log")
        row.update(workers_memory(proc))
        stop_service(proc)
        log(f"[cold {name}] {json.dumps(row)}")
        rows.append(row)
    return rows


WRK_ASK = """
local questions = {QUESTIONS}
local i = 0
request = function()
  i = i % #questions + 1
  return wrk.format("POST", "/api/ask", {["Content-Type"] = "application/json"}, questions[i])
end
"""


def wrk(port: int, path: str, seconds: int, script: Path | None) -> dict:
    cmd = ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1000.0}

    def latency(p: str) -> float:
        m = re.search(rf"^\s*{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99"),
            "non2xx": int(errors.group(1)) if errors else 0}


def e2e(name: str, corpus_dir: Path | None, work: Path, port: int, args, questions: list[str]) -> dict:
    index_dir = work / f"e2e-index-{name}"
    if index_dir.exists():
        shutil.rmtree(index_dir)
    env = {"POLICY_QA_INDEX_DIR": str(index_dir), "POLICY_QA_LOG_LEVEL": "WARNING"}
    if corpus_dir:
        env["POLICY_QA_CORPUS_DIR"] = str(corpus_dir)
    row: dict = {"corpus": name}
    log(f"[e2e {name}] build-index")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "service.cli", "build-index"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, capture_output=True)
    row["build_index_s"] = time.perf_counter() - t0
    row["index_mb"] = dir_mb(index_dir)
    row["clauses"] = json.loads((index_dir / "CURRENT").read_text())["clauses"]
    row.update(startup_parts(env))
    log(f"[e2e {name}] cold start")
    proc, cold = start_service(env, port, work / f"gunicorn-{name}.log")
    try:
        row["cold_start_s"] = cold
        row.update(workers_memory(proc))
        script = work / "ask.lua"
        bodies = ", ".join(json.dumps(json.dumps({"question": q}, ensure_ascii=False), ensure_ascii=False)
                           for q in questions)
        script.write_text(WRK_ASK.replace("{QUESTIONS}", "{" + bodies + "}"), encoding="utf-8")
        log(f"[e2e {name}] wrk")
        wrk(port, "/healthz", 2, None)  # warm up both workers
        wrk(port, "/api/ask", 2, script)
        row["healthz"] = wrk(port, "/healthz", args.duration, None)
        row["ask"] = wrk(port, "/api/ask", args.duration, script)
        row["ratio"] = row["ask"]["rps"] / row["healthz"]["rps"]
        row.update({f"after_{k}": v for k, v in workers_memory(proc).items()})
    finally:
        stop_service(proc)
    log(f"[e2e {name}] {json.dumps(row)}")
    return row


# ---- report -------------------------------------------------------------------------------------
def markdown(result: dict) -> str:
    def f(x, nd=1):
        return "–" if x is None else f"{x:.{nd}f}"

    lines = [f"Run {result['started']} on {result['machine']} (load average at start {result['load']:.1f}).", "",
             "| clauses | index | build s | disk MB | RSS MB | query p50 ms | query p99 ms | top-10 identical | "
             "overlap | max rel. score diff |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["retrieval"]:
        n = f"{row['clauses']:,}"
        for key, label in (("okapi", "rank-bm25 BM25Okapi"), ("serving", "serving (CSC arrays + numba MaxScore)"),
                           ("bm25s", "bm25s 0.3 numba (atire)")):
            r = row.get(key)
            if not r or "skipped" in r:
                continue
            ag = row.get("agreement") if key == "serving" else row.get("agreement_bm25s") if key == "bm25s" else None
            q = f" ({r['queries']} queries)" if key == "okapi" and r.get("queries", 0) < 40 else ""
            lines.append(
                f"| {n} | {label}{q} | {f(r['build_s'])} | {f(r.get('disk_mb'))} | {f(r['rss_mb'], 0)} | "
                f"{f(r['p50_ms'], 3)} | {f(r['p99_ms'], 3)} | "
                + (f"{ag['identical']:.0%} | {ag['overlap']:.0%} | {ag['max_rel_diff']:.1e} |" if ag else "ref | | |")
            )
        lines.append(f"| {n} | **speed-up p50 serving vs BM25Okapi** | | | | **{row['speedup_p50']:.0f}×** | | | | |")
    if result.get("e2e"):
        lines += ["", "| corpus | clauses | build-index s | cold start s (ingest / index load) | worker RSS MB | "
                  "worker PSS MB | /healthz req/s (p50/p99 ms) | /api/ask req/s (p50/p99 ms) | ask/healthz |",
                  "|---|---:|---:|---|---:|---:|---|---|---:|"]
        for r in result["e2e"]:
            h, a = r["healthz"], r["ask"]
            lines.append(
                f"| {r['corpus']} | {r['clauses']:,} | {f(r['build_index_s'])} | {f(r['cold_start_s'], 2)} "
                f"({f(r.get('ingest_s'), 2)} / {f(r.get('index_load_s'), 2)}) | "
                f"{' / '.join(f(x, 0) for x in r['after_worker_rss_mb'])} | "
                f"{' / '.join(f(x, 0) for x in r['after_worker_pss_mb'])} | "
                f"{h['rps']:.0f} ({f(h['p50_ms'], 2)}/{f(h['p99_ms'], 2)}) | "
                f"{a['rps']:.0f} ({f(a['p50_ms'], 2)}/{f(a['p99_ms'], 2)}) | {r['ratio']:.2f} |")
    if result.get("cold"):
        lines += ["", "| corpus | clauses | documents | numba cache | first answer s (gunicorn --preload) | "
                  "engine s | of which generation load s (unpickle) | numba s | imports s | CPU s of the start | "
                  "ingest without the cache s | load avg |",
                  "|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|"]
        for r in result["cold"]:
            lines.append(
                f"| {r['corpus']} | {r['clauses']:,} | {r['documents']:,} | {r['numba_cache']} | "
                f"{f(r['first_answer_s'], 2)} | {f(r['engine_s'], 2)} | {f(r.get('generation_load_s'), 2)} "
                f"({f(r.get('unpickle_s'), 2)}) | {f(r.get('numba_s'), 2)} | {f(r['imports_s'], 2)} | "
                f"{f(r.get('cpu_s'), 2)} | "
                f"{f(r['uncached_ingest_s'], 2)} | {r['load']:.1f} |")
        lines += ["", "| corpus | clauses | engine for a new generation, built aside s | process RSS MB: one engine "
                  "/ both during the switch / after | cost of a switch per worker MB |", "|---|---:|---:|---|---:|"]
        for r in result["cold"]:
            if r["numba_cache"] == "warm":
                lines.append(
                    f"| {r['corpus']} | {r['clauses']:,} | {f(r['switch_build_s'], 2)} | {f(r['rss_one_mb'], 0)} / "
                    f"{f(r['rss_both_mb'], 0)} / {f(r['rss_after_mb'], 0)} | "
                    f"{f(r['rss_both_mb'] - r['rss_one_mb'], 0)} |")
    return "\n".join(lines) + "\n"


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the query set (serving, bm25s)")
    parser.add_argument("--okapi-full-max", type=int, default=1_000_000,
                        help="from this size on, BM25Okapi answers only a sample of the queries")
    parser.add_argument("--okapi-sample", type=int, default=6)
    parser.add_argument("--no-bm25s", action="store_true")
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument("--cold-start", action="store_true",
                        help="only the cold-start rows (shipped and --e2e-clauses synthetic) into --out")
    parser.add_argument("--e2e-clauses", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--port", type=int, default=18650)
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--out", default=None, help="results file stem (default bench/results, "
                        "bench/cold-start with --cold-start)")
    args = parser.parse_args()
    args.out = args.out or str(ROOT / "bench" / ("cold-start" if args.cold_start else "results"))

    from service.qa.engine import QAEngine

    work = Path(args.workdir or tempfile.mkdtemp(prefix="policy-qa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    engine = QAEngine(ROOT / "corpus", ROOT / "prompts")
    pieces = Pieces.from_corpus(ROOT / "corpus", engine.tokenizer)
    pieces.check(engine.tokenizer, make_clauses(pieces, 1000))
    queries = dev_queries(engine)
    result = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": f"{os.cpu_count()} CPU, {os.uname().machine}", "load": os.getloadavg()[0],
              "queries": len(queries), "sentences": len(pieces.sentences), "retrieval": [], "e2e": []}
    if args.cold_start:
        args.sizes, args.no_e2e = "", True
        del engine
        result["cold"] = cold_start("shipped", None, work, args.port)
        big = work / f"corpus-{args.e2e_clauses}"
        # 1,000 documents of 100 clauses, each with its catalog entry: ingest must stay linear in both
        write_corpus(pieces, ROOT / "corpus", big, args.e2e_clauses)
        result["cold"] += cold_start(f"shipped + {args.e2e_clauses // 1000}k synthetic", big, work, args.port)
    for n in (int(x) for x in args.sizes.split(",") if x):
        result["retrieval"].append(run_size(queries, n, work, args))
        Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    if not args.no_e2e:
        if not shutil.which("wrk"):
            raise SystemExit("wrk not found: apt-get install wrk (or pass --no-e2e)")
        questions = [json.loads(x)["question"] for x in DEV.read_text(encoding="utf-8").splitlines()]
        del engine
        result["e2e"].append(e2e("shipped", None, work, args.port, args, questions))
        big = work / f"corpus-{args.e2e_clauses}"
        # 100 documents of 1000 clauses, as in the earlier runs (ingest used to match every headline
        # against the whole catalog; the cold-start rows use 1,000 documents)
        write_corpus(pieces, ROOT / "corpus", big, args.e2e_clauses, per_section=20, sections_per_doc=50)
        result["e2e"].append(e2e(f"shipped + {args.e2e_clauses // 1000}k synthetic", big, work, args.port, args,
                                 questions))
    Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    text = markdown(result)
    Path(args.out + ".md").write_text(text, encoding="utf-8")
    print(text)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
