#!/usr/bin/env python3
"""`make eval`: ../shared/eval/run_eval.py over every development set, against real servers, in one table.

dev.jsonl and dev-colloquial.jsonl are asked of a server on the shipped corpus (as `make run` serves
it); dev-docs.jsonl of a server whose corpus is a temporary copy of the shipped one with
../shared/corpus-dev added by `policy-qa add`. Each set is scored on its 'fit' part (what the
answerability model was calibrated on), its 'check' part (what it never saw) and all of it.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
METRICS = ("cite@1", "cite@3", "answer", "false_refusal", "refusal", "followup", "faithful", "errors",
           "latency_ms_p50")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(corpus: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    """The Procfile's server on a free loopback port, its store and index in `tmp`."""
    port = free_port()
    env = {**os.environ, "POLICY_QA_CORPUS_DIR": str(corpus), "POLICY_QA_INDEX_DIR": str(tmp / "index"),
           "POLICY_QA_SQLITE_PATH": str(tmp / "store.sqlite3"), "PORT": str(port)}
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--preload", "--workers", "2", "--bind", f"127.0.0.1:{port}", "service.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the server on {corpus} exited with {proc.returncode}") from None
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the server on {corpus} did not answer /healthz")


def with_documents(folder: Path, tmp: Path) -> Path:
    """A copy of the shipped corpus with every document of `folder` added by `policy-qa add`."""
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("*.cache"))
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".txt", ".md", ".html", ".htm"))
    env = {**os.environ, "POLICY_QA_CORPUS_DIR": str(corpus), "POLICY_QA_INDEX_DIR": str(tmp / "index")}
    subprocess.run([str(BIN / "policy-qa"), "add", *map(str, files)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return corpus


def run_eval(url: str, questions: str, corpora: list[Path], part: str, tmp: Path) -> dict:
    out = tmp / f"{questions}-{part}.json"
    cmd = [sys.executable, str(SHARED / "eval" / "run_eval.py"), "--url", url, "--questions",
           str(SHARED / "eval" / questions), "--part", part, "--json", str(out)]
    for c in corpora:
        cmd += ["--corpus", str(c)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))["summary"]


def main() -> int:
    if not (SHARED / "eval" / "run_eval.py").exists():
        raise SystemExit(f"no {SHARED / 'eval'}: make eval needs ../shared beside the checkout")
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        plans = [("shipped", None, ["dev.jsonl", "dev-colloquial.jsonl"], [SHARED / "seeds"]),
                 ("shipped+corpus-dev", SHARED / "corpus-dev", ["dev-docs.jsonl"],
                  [SHARED / "seeds", SHARED / "corpus-dev"])]
        for label, extra, sets, corpora in plans:
            work = tmp / label
            work.mkdir()
            corpus = with_documents(extra, work) if extra else ROOT / "corpus"
            proc, url = serve(corpus, work)
            try:
                for questions in sets:
                    for part in ("fit", "check", "all"):
                        rows.append((questions, part, label, run_eval(url, questions, corpora, part, work)))
            finally:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
    head = ["set", "part", "corpus", *METRICS]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for questions, part, label, summary in rows:
        print("| " + " | ".join([questions, part, label, *(str(summary.get(m)) for m in METRICS)]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
