"""The gunicorn worker of gunicorn.conf.py: gevent, every client read bounded, gunicorn's own errors as JSON."""
from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn.workers.ggevent import GeventWorker

from .config import load_settings

# gunicorn answers these itself, before the app sees the request; the message says what to fix.
GUNICORN_ERRORS = {
    400: ("bad_request", "请求格式不正确"),
    403: ("forbidden", "请求被拒绝"),
    414: ("uri_too_long", "请求地址过长"),
    417: ("expectation_failed", "不支持该 Expect 请求头"),
    431: ("header_fields_too_large", "请求头过大或过多"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    501: ("not_implemented", "不支持该传输编码"),
}


class _ErrorCapture:
    """Takes the place of the client socket while gunicorn writes its HTML error page, to learn its status."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return None

    def setblocking(self, flag):
        pass

    def send(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def sendall(self, data: bytes) -> None:
        self.data += data

    def status(self) -> int:
        # "HTTP/1.1 414 URI Too Long\r\n..."
        parts = self.data.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 500


def json_error(status: int) -> bytes:
    """A complete HTTP/1.1 response with the service's JSON error body, closing the connection."""
    code, message = GUNICORN_ERRORS.get(status, GUNICORN_ERRORS[500] if status >= 500 else GUNICORN_ERRORS[400])
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class Worker(GeventWorker):
    """A greenlet per connection, so an idle or slow client holds a few KB, never a whole worker.

    gunicorn bounds the wait for each request's headers by `keepalive` (a gevent.Timeout around the
    parser); a socket timeout of BODY_READ_TIMEOUT bounds every later read, so a body that stops
    arriving ends in a 400 (werkzeug's ClientDisconnected) and a closed connection, not a held greenlet.
    """

    def init_process(self):
        # longer than keepalive: a socket timeout in the header phase would be logged as an error
        self.read_timeout = max(float(load_settings()["BODY_READ_TIMEOUT"]), self.cfg.keepalive + 1)
        super().init_process()

    def handle(self, listener, client, addr):
        # GeventWorker.handle would put the socket in blocking mode with no timeout at all
        client.settimeout(self.read_timeout)
        super(GeventWorker, self).handle(listener, client, addr)

    def handle_error(self, req, client, addr, exc):
        # gunicorn logs and counts the error as usual, but the client gets JSON, as on every /api/ path
        capture = _ErrorCapture()
        super().handle_error(req, capture, addr, exc)
        try:
            client.sendall(json_error(capture.status()))
        except OSError:
            self.log.debug("Failed to send error message.")
