"""gunicorn as the Procfile runs it (gunicorn.conf.py): slow and idle clients, its own errors, SIGTERM."""
from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from tests.slack.mock_slack import MockSlack
from tests.slack.slack_helpers import BOT_TOKEN, FORM, JSON_CT, SECRET, command_body, event_body, signed_headers, unique

from .servers import (
    Gunicorn,
    HeldConnections,
    ask_body,
    closed_by_server,
    connect,
    http,
    probe_healthz,
    raw_error_code,
    request_head,
)

KEEPALIVE = 2  # seconds for a request's headers (gunicorn.conf.py says 5; shorter here to keep the test short)
BODY_READ_TIMEOUT = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("front")
    gunicorn = Gunicorn(tmp, "--keep-alive", str(KEEPALIVE), BODY_READ_TIMEOUT=BODY_READ_TIMEOUT)
    yield gunicorn
    log = gunicorn.stop()
    assert "Traceback" not in log, log


def test_idle_and_slow_clients_do_not_hold_up_health_probes(server):
    held = HeldConnections(server.port, idle=64, slow=16)
    try:
        latencies = probe_healthz(server.port, seconds=KEEPALIVE - 0.5)
        print(f"\ngunicorn, 64 idle + 16 slow-body connections: {len(latencies)} /healthz probes, "
              f"slowest {max(latencies) * 1000:.1f} ms")
        assert max(latencies) < 1.0
        # and they are bounded: an idle client is let go after `keepalive` without an answer ...
        assert all(closed_by_server(sock, KEEPALIVE + 2) == b"" for sock in held.idle)
        # ... a body that is still arriving is waited for, one that stops gets a JSON 400 and is closed
        assert held.sent > 0
        assert all(closed_by_server(sock, 0.5) is None for sock in held.slow)
        held.stop_sending()
        started = time.monotonic()
        replies = [closed_by_server(sock, BODY_READ_TIMEOUT + 2) for sock in held.slow]
        assert time.monotonic() - started < BODY_READ_TIMEOUT + 2
        for reply in replies:
            assert reply.startswith(b"HTTP/1.1 400 "), reply
            assert b"application/json" in reply
    finally:
        held.close()


@pytest.mark.parametrize("request_bytes, status, code", [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET /api/ask HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
     431, "header_fields_too_large"),
    (b"GET /api/ask HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, "header_fields_too_large"),
    (b"G\x01T /api/ask HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
    (b"GET /api/ask HTTP/9.9\r\nHost: x\r\n\r\n", 400, "bad_request"),
])
def test_requests_gunicorn_refuses_itself_get_json(server, request_bytes, status, code):
    assert raw_error_code(server.port, request_bytes, status) == code


def test_sigterm_finishes_the_request_in_flight_and_takes_no_new_one(tmp_path):
    gunicorn = Gunicorn(tmp_path, "--workers", "1")
    body = ask_body()
    with connect(gunicorn.port) as sock:
        sock.sendall(request_head("POST", "/api/ask", len(body), {"Content-Type": "application/json"}))
        sock.sendall(body[:10])
        time.sleep(0.3)
        gunicorn.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        with pytest.raises(OSError):  # the listener is closed at once
            socket.create_connection(("127.0.0.1", gunicorn.port), timeout=1).close()
        sock.sendall(body[10:])
        reply = closed_by_server(sock, 10)
    head, _, answer = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), reply
    assert json.loads(answer)["answered"] is True
    gunicorn.process.wait(15)
    log = gunicorn.stop()
    assert "Traceback" not in log and "Worker graceful timeout" not in log, log


def test_the_slack_bot_answers_from_gevent_workers(tmp_path):
    # Bolt's listener and answer pools run on greenlets here: a late slash-command answer goes out
    # through response_url after the ack, a mention through chat.postMessage.
    slack = MockSlack()
    server = Gunicorn(tmp_path, SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
                      SLACK_API_BASE_URL=f"{slack.url}/api/", SLACK_ACK_BUDGET_MS=0)
    try:
        body = command_body("耕地保有量目标是多少？", f"{slack.url}/response")
        status, _, ack = http(server.port, "POST", "/slack/commands", body.encode(),
                              {"Content-Type": FORM, **signed_headers(body)})
        assert status == 200 and json.loads(ack)["response_type"] == "ephemeral"
        [answer] = slack.wait_for("/response", timeout=15)
        assert "18.65亿亩" in json.dumps(answer["body"], ensure_ascii=False)
        event = event_body({"type": "app_mention", "user": "U1", "text": "<@UBOT> 耕地保有量目标是多少？",
                            "channel": unique("C"), "ts": "1700000000.000100"})
        status, _, _ = http(server.port, "POST", "/slack/events", event.encode(),
                            {"Content-Type": JSON_CT, **signed_headers(event)})
        assert status == 200
        [post] = slack.wait_for("/api/chat.postMessage", timeout=15)
        assert "18.65亿亩" in json.dumps(post["body"], ensure_ascii=False)
    finally:
        log = server.stop()
        slack.close()
    assert "Traceback" not in log, log
