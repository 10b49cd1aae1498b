"""A running gunicorn (several workers) picks up added and removed documents without a restart or a failed request.

While client threads ask questions continuously, one document is added with `policy-qa add` and another
with POST /api/admin/documents; every worker must answer questions about them within seconds, and
removing one makes its questions unanswerable again on every worker. Corpus, index and store live in
tmp dirs; the access log names the worker (pid) that served each request.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "add"
WORKERS = 3
TOKEN = "test-admin-token"
SEED_Q = ("耕地保有量目标是多少？", "18.65亿亩")
ELEVATOR_Q = ("青山区加装电梯每台补助多少钱？", "15万元")
LIBRARY_Q = ("河西区社区图书室藏书不少于多少册？", "3000册")
SWITCH_WITHIN_S = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: text/plain\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Service:
    def __init__(self, tmp: Path):
        self.corpus = tmp / "corpus"
        shutil.copytree(ROOT / "corpus", self.corpus)
        self.port = free_port()
        self.access_log = tmp / "access.log"
        self.env = {**os.environ, "POLICY_QA_CORPUS_DIR": str(self.corpus), "POLICY_QA_INDEX_DIR": str(tmp / "index"),
                    "POLICY_QA_SQLITE_PATH": str(tmp / "store.sqlite3"), "POLICY_QA_DATABASE_URL": "",
                    "POLICY_QA_ADMIN_TOKEN": TOKEN, "POLICY_QA_RELOAD_CHECK_MS": "200",
                    "POLICY_QA_LOG_LEVEL": "WARNING"}
        self._errors = open(tmp / "error.log", "wb")  # closed in stop()
        self.error_log = tmp / "error.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--preload", "--workers", str(WORKERS), "--timeout", "60",
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access_log),
             "--access-logformat", "%(p)s %({x-test-label}i)s %(s)s", "service.wsgi:app"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self._errors,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.error_log.read_text())
            try:
                self.call("GET", "/healthz")
                if len(self.workers()) == WORKERS:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not come up:\n" + self.error_log.read_text())

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json",
             label: str = "-", token: bool = False) -> tuple[int, bytes]:
        headers = {"Content-Type": content_type, "X-Test-Label": label, "Connection": "close"}
        if token:
            headers["Authorization"] = f"Bearer {TOKEN}"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def workers(self) -> set[str]:
        return set(Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split())

    def served_by(self) -> dict[str, str]:
        out = {}
        for line in self.access_log.read_text().splitlines():
            pid, label, _status = line.split(" ")
            out[label] = pid.strip("<>")
        return out

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._errors.close()


class Askers:
    """Client threads asking the three questions round and round; every reply (or failure) is recorded."""

    def __init__(self, service: Service, threads: int = 3):
        self.service = service
        self.records: list[dict] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, n: int) -> None:
        i = 0
        questions = (SEED_Q, ELEVATOR_Q, LIBRARY_Q)
        while not self._stop.is_set():
            question, expected = questions[(i + n) % 3]
            label = f"t{n}-{i}"
            i += 1
            t = time.monotonic()
            try:
                status, body = self.service.call("POST", "/api/ask", json.dumps({"question": question}).encode(),
                                                 label=label)
                reply = json.loads(body)
                if status != 200:
                    raise RuntimeError(f"{status} {body[:200]!r}")
                with self._lock:
                    self.records.append({"label": label, "t": t, "question": question,
                                         "answered": reply["answered"] and expected in reply["answer"]})
            except Exception as exc:  # every kind of failure counts against the switch
                with self._lock:
                    self.failures.append(f"{label} {question}: {exc!r}")
            time.sleep(0.02)

    def __enter__(self) -> Askers:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def settled(self, question: str, answered: bool, since: float, workers: set[str]) -> bool:
        """Every worker has replied to `question` as `answered` since `since`, and none otherwise after that."""
        by = self.service.served_by()
        with self._lock:
            records = [r for r in self.records if r["question"] == question and r["t"] >= since]
        last = {}
        for r in records:
            pid = by.get(r["label"])
            if pid:
                last[pid] = r["answered"]
        return set(last) >= workers and all(v == answered for v in last.values())

    def wait(self, question: str, answered: bool, since: float, workers: set[str]) -> float:
        deadline = since + SWITCH_WITHIN_S
        while time.monotonic() < deadline:
            if self.settled(question, answered, since, workers):
                return time.monotonic() - since
            time.sleep(0.2)
        raise AssertionError(f"not every worker {'answers' if answered else 'refuses'} {question} "
                             f"within {SWITCH_WITHIN_S} s")


@pytest.fixture
def service(tmp_path):
    svc = Service(tmp_path)
    yield svc
    svc.stop()


def test_add_and_remove_switch_every_worker_without_a_failed_request(service, tmp_path):
    workers = service.workers()
    assert len(workers) == WORKERS
    with Askers(service) as askers:
        start = time.monotonic()
        askers.wait(ELEVATOR_Q[0], False, start, workers)
        askers.wait(LIBRARY_Q[0], False, start, workers)

        # 1. the command line, in another process, as an operator would run it
        added = subprocess.run(
            [sys.executable, "-m", "service.cli", "add", str(DATA / "qingshan-elevator.txt"),
             "--id", "qingshan-elevator", "--title", "青山区既有住宅加装电梯补助实施方案", "--issuer", "青山区人民政府",
             "--date", "2025-03-01"],
            cwd=ROOT, env=service.env, capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
        assert "二、补助标准 (3) （一）（二）（三）" in added.stdout and "published index generation 2" in added.stdout
        t_cli = time.monotonic()
        cli_switch = askers.wait(ELEVATOR_Q[0], True, t_cli, workers)

        # 2. the upload API, served by one of the workers while the others keep answering
        body, content_type = multipart({"id": "hexi-library", "title": "河西区社区图书室建设管理办法",
                                        "kind": "regulation"},
                                       [("hexi-library.txt", (DATA / "hexi-library.txt").read_bytes())])
        status, raw = service.call("POST", "/api/admin/documents", body, content_type, token=True)
        assert status == 201, raw
        reply = json.loads(raw)
        assert reply["published"] and reply["generation"] == 3
        assert [d["id"] for d in reply["documents"]] == ["hexi-library"]
        t_http = time.monotonic()
        http_switch = askers.wait(LIBRARY_Q[0], True, t_http, workers)

        # 3. removing the first one makes its questions unanswerable again, on every worker
        status, raw = service.call("DELETE", "/api/admin/documents/qingshan-elevator", token=True)
        assert status == 200 and json.loads(raw)["removed"] == "qingshan-elevator", raw
        t_remove = time.monotonic()
        remove_switch = askers.wait(ELEVATOR_Q[0], False, t_remove, workers)
        askers.wait(SEED_Q[0], True, t_remove, workers)
        askers.wait(LIBRARY_Q[0], True, t_remove, workers)

    status, page = service.call("GET", "/documents/qingshan-elevator")
    assert status == 410 and "已被移除" in page.decode() and "青山区既有住宅加装电梯补助实施方案" in page.decode()
    assert service.workers() == workers  # no worker was restarted to switch
    total = len(askers.records)
    print(f"live switch: {total} questions, {len(askers.failures)} failed; every worker switched "
          f"{cli_switch:.1f} s after policy-qa add, {http_switch:.1f} s after the upload, "
          f"{remove_switch:.1f} s after the removal")
    assert askers.failures == []
    assert total > 100
    seed = [r for r in askers.records if r["question"] == SEED_Q[0]]
    assert seed and all(r["answered"] for r in seed)  # the other documents answer all along
