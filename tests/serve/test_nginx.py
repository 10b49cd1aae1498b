"""deploy/nginx/policy-qa.conf, run by Debian's nginx on loopback in front of a real gunicorn."""
from __future__ import annotations

import json

import pytest

from service.store import Store
from tests.store.conftest import free_port

from .servers import Gunicorn, HeldConnections, Nginx, ask_body, http, probe_healthz, raw_error_code


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    backend = Gunicorn(tmp_path_factory.mktemp("behind-nginx"), TRUSTED_PROXIES=1, STORE_CLIENT_IP=1)
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), backend.port)
    yield proxy, backend
    errors = proxy.stop()
    log = backend.stop()
    assert "Traceback" not in log, log
    assert "[emerg]" not in errors and "[alert]" not in errors, errors


def tls(proxy: Nginx) -> dict:
    return {"tls_ca": proxy.tmp / "cert.pem"}


def test_idle_and_slow_clients_through_nginx_do_not_hold_up_health_probes(proxied):
    proxy, backend = proxied
    held = HeldConnections(proxy.https_port, idle=64, slow=256, **tls(proxy))
    try:
        latencies = probe_healthz(proxy.https_port, seconds=4, **tls(proxy))
        assert held.sent > 0
        # nginx holds the unfinished bodies: gunicorn has not seen one of them
        assert "POST /api/ask" not in backend.log.read_text()
    finally:
        held.close()
    print(f"\nnginx, 64 idle + 256 slow-body connections: {len(latencies)} /healthz probes over TLS, "
          f"slowest {max(latencies) * 1000:.1f} ms")
    assert max(latencies) < 1.0


def test_questions_pass_through_with_the_real_client_address(proxied):
    proxy, backend = proxied
    status, headers, body = http(proxy.https_port, "POST", "/api/ask", ask_body(), source="127.0.0.9",
                                 headers={"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"}, **tls(proxy))
    assert status == 200 and headers["content-type"] == "application/json"
    reply = json.loads(body)
    assert reply["answered"] is True
    store = Store(backend.url)
    try:
        assert store.conversation(reply["conversation_id"])[0]["client_ip"] == "127.0.0.9"
    finally:
        store.dispose()


def test_plain_http_is_sent_to_https(proxied):
    proxy, _ = proxied
    status, headers, _ = http(proxy.http_port, "GET", "/api/ask?x=1")
    assert status == 301 and headers["location"] == "https://localhost/api/ask?x=1"


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"POST /api/ask HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n",
     413, "body_too_large"),
    (b"GET /api/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, "uri_too_long"),
    (b"GET /api/ask HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", 431,
     "header_fields_too_large"),
    (b"G\x01T /api/ask HTTP/1.1\r\nHost: localhost\r\n\r\n", 400, "bad_request"),
])
def test_requests_nginx_refuses_get_json(proxied, request_bytes, status, code):
    proxy, _ = proxied
    assert raw_error_code(proxy.https_port, request_bytes, status, **tls(proxy)) == code


def test_the_apps_own_errors_pass_through_unchanged(proxied):
    proxy, _ = proxied
    status, headers, body = http(proxy.https_port, "POST", "/api/ask", b'{"q": 1}', **tls(proxy))
    assert status == 400 and json.loads(body)["error"]["code"] == "missing_question"


def test_a_dead_upstream_is_a_json_503_on_the_api_and_a_page_elsewhere(tmp_path):
    proxy = Nginx(tmp_path, free_port())  # nothing listens there
    try:
        status, headers, body = http(proxy.https_port, "POST", "/api/ask", ask_body(), **tls(proxy))
        assert status == 503 and headers["content-type"] == "application/json" and headers["retry-after"] == "5"
        assert json.loads(body)["error"]["code"] == "unavailable"
        status, headers, body = http(proxy.https_port, "GET", "/", **tls(proxy))
        assert status == 503 and headers["content-type"].startswith("text/html") and "服务暂时不可用" in body.decode()
    finally:
        proxy.stop()
