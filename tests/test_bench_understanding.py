"""bench/understanding.py's child: times today's engine in its own interpreter, and refuses a wrong import."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "understanding.py"


def run_child(job: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, "-I", str(SCRIPT), "--child", str(job_file)], capture_output=True,
                          text=True, cwd=job["engine_root"], timeout=300)


def test_child_times_every_turn_of_today_engine(tmp_path):
    conversations = [["黔东南去年地区生产总值是多少？", "那今年的目标呢？"], ["如何申请护照？"]]
    job = {"engine_root": str(ROOT), "corpus": str(ROOT / "corpus"), "index": str(tmp_path / "index"),
           "role": "measure", "conversations": conversations, "rounds": 2, "warmup": 1, "profile": 15}
    done = run_child(job, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(out["wall_ms"]) == len(out["cpu_ms"]) == 2 * 3
    assert all(ms > 0 for ms in out["wall_ms"])
    # the GDP question is answered, the passport one refused, in both rounds
    assert 0 < out["answered"] < 1
    assert out["clauses"] > 100 and out["rss_load_mb"] > out["rss_imports_mb"] > 0
    assert "service/qa/engine.py" in out["profile"] and str(ROOT) not in out["profile"]
    assert (tmp_path / "index").is_dir()  # the artifact goes where the job says, not into var/


def test_child_refuses_an_engine_imported_from_elsewhere(tmp_path):
    # no service/ under this root: the installed checkout's would be imported instead
    job = {"engine_root": str(tmp_path), "corpus": str(ROOT / "corpus"), "index": str(tmp_path / "index"),
           "role": "build", "conversations": [], "rounds": 1, "warmup": 0}
    done = run_child(job, tmp_path)
    assert done.returncode != 0
    assert "not the engine under" in done.stderr
