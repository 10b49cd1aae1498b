"""A real server for tests that need one: gunicorn on loopback, started the way the Procfile starts it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECOVERY_SECONDS = 10  # a healed store must make /readyz answer 200 within this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """gunicorn --preload with sync workers on loopback (2, as the Procfile runs it); prefix wraps the command."""

    def __init__(self, tmp: Path, env: dict, prefix: list[str] | None = None, workers: int = 2,
                 options: list[str] | None = None):
        self.port = free_port()
        self.error_log = tmp / "gunicorn.log"
        self._log = open(self.error_log, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "gunicorn", "--preload", "--workers", str(workers),
             "--bind", f"127.0.0.1:{self.port}", *(options or []), "service.wsgi:app"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._log,
            env={**os.environ, "POLICY_QA_INDEX_DIR": "", "POLICY_QA_LOG_LEVEL": "WARNING", **env},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log())
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not come up:\n" + self.log())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, str, dict | None]:
        """One request on a fresh connection: status, Content-Type and the JSON body (None when not JSON)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
            kind = response.getheader("Content-Type", "")
            return response.status, kind, json.loads(raw) if kind.startswith("application/json") else None
        finally:
            conn.close()

    def ready(self) -> bool:
        return self.call("GET", "/readyz")[0] == 200

    def wait_ready(self, timeout: float = RECOVERY_SECONDS) -> float:
        """Seconds until /readyz answers 200 (polled every 50 ms); fails after timeout."""
        started = time.monotonic()
        while not self.ready():
            assert time.monotonic() - started < timeout, "the service did not recover:\n" + self.log()
            time.sleep(0.05)
        return time.monotonic() - started

    def log(self) -> str:
        return self.error_log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
