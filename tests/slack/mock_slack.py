"""A local stand-in for Slack's servers (Web API, response_url): records requests, replies as told."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OK = (200, {}, {"ok": True, "channel": "C0", "ts": "1700000000.000200"})


class MockSlack:
    def __init__(self):
        self.calls: list[dict] = []
        self._replies: dict[str, list[tuple[int, dict, dict]]] = {}
        self._delays: dict[str, float] = {}
        self._lock = threading.Lock()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw)
                else:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                path = urllib.parse.urlsplit(self.path).path
                with mock._lock:
                    mock.calls.append({"path": path, "headers": dict(self.headers), "body": body})
                    queue = mock._replies.get(path, [])
                    status, headers, payload = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else OK)
                time.sleep(mock._delays.get(path, 0))
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("x-slack-req-id", f"req-{len(mock.calls)}")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as the timeout test intends

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, path: str, *replies: tuple[int, dict, dict]) -> None:
        """Answer path with these replies in turn; the last one sticks."""
        self._replies[path] = list(replies)

    def delay(self, path: str, seconds: float) -> None:
        self._delays[path] = seconds

    def calls_to(self, path: str) -> list[dict]:
        with self._lock:
            return [c for c in self.calls if c["path"] == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """The calls to path once there are count of them (or all there are after timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.calls_to(path)) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.calls_to(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
