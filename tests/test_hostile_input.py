"""Issue 11's table: every hostile or malformed request gets its answer, and nothing else happens.

Each row sends one request (after an optional setup request, e.g. the original of a replay) to the real
app with Slack, Mattermost and admin on, and asserts the status, a JSON body (or a Chinese page outside
/api/), the error code, that no turn was stored and that nothing was sent to the mock Slack API or to a
response_url.
"""
from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from service.config import load_settings
from tests.conftest import ROOT
from tests.slack.slack_helpers import (
    BOT_TOKEN,
    FORM,
    JSON_CT,
    MM_TOKEN,
    SECRET,
    command_body,
    signed_headers,
)

ADMIN = {"Authorization": "Bearer table-admin-token"}
MM_AUTH = {"Authorization": f"Token {MM_TOKEN}"}
QUESTION = "耕地保有量目标是多少？"


@dataclass
class Row:
    send: Callable  # (client, context) -> response
    status: int
    code: str | None  # the JSON error code; None for a success or a page
    setup: Callable | None = None  # (client, context) -> None, run before counting
    page: bool = False  # a Chinese HTML page instead of JSON
    turns: int = 0  # turns this request may store


def raw_json(path: str, text: str):
    return lambda client, ctx: client.post(path, data=text.encode("utf-8", "surrogatepass"), content_type=JSON_CT)


def nested(depth: int) -> str:
    return '{"question": ' + "[" * depth + "]" * depth + "}"


def feedback_on(conversation: Callable, **body):
    def send(client, ctx):
        return client.post("/api/feedback", json={"conversation_id": conversation(ctx), "turn": 1, "rating": "up",
                                                  **body})
    return send


def slack(path: str, body: str, content_type: str = FORM, headers: Callable | None = None):
    def send(client, ctx):
        return client.post(path, data=body, content_type=content_type,
                           headers=headers(body) if headers else signed_headers(body))
    return send


def slack_command(ctx) -> str:
    """A slash command whose response_url is the mock's (so a late answer would be seen)."""
    if "command" not in ctx:
        ctx["command"] = command_body(QUESTION, f"{ctx['slack_api'].url}/hook")
        ctx["command_headers"] = signed_headers(ctx["command"])
    return ctx["command"]


def send_command(client, ctx):
    return client.post("/slack/commands", data=slack_command(ctx), content_type=FORM, headers=ctx["command_headers"])


def trigger_id(user: str, age_seconds: float = 0) -> str:
    """A trigger_id as Mattermost makes one: base64 of id, user, milliseconds and a signature."""
    millis = int((time.time() - age_seconds) * 1000)
    return base64.b64encode(f"{uuid.uuid4().hex}:{user}:{millis}:c2lnbmF0dXJl".encode()).decode()


def mattermost_form(ctx, trigger: str | None = None) -> str:
    if "mm" not in ctx:
        ctx["mm"] = urllib.parse.urlencode({"command": "/policy", "text": QUESTION, "team_id": "mmteam",
                                            "channel_id": "mmc1", "user_id": "mmu1",
                                            "trigger_id": trigger or trigger_id("mmu1")})
    return ctx["mm"]


def mattermost_with(trigger: Callable):
    def send(client, ctx):
        return client.post("/mattermost/commands", data=mattermost_form(ctx, trigger=trigger()), content_type=FORM,
                           headers=MM_AUTH)
    return send


def send_mattermost(client, ctx):
    return client.post("/mattermost/commands", data=mattermost_form(ctx), content_type=FORM, headers=MM_AUTH)


def slack_conversation(ctx) -> str:
    return ctx["app"].extensions["store"].channel_id("slack", "T0001", "C0001", "U0001")


def ask_with(conversation: Callable):
    def send(client, ctx):
        return client.post("/api/ask", json={"question": QUESTION, "conversation_id": conversation(ctx)})
    return send


ROWS = {
    # -- point 3: malformed input reaches no 500 ---------------------------------------------------
    "ask: lone surrogate": Row(raw_json("/api/ask", '{"question": "耕地\\ud800保有量"}'), 400, "invalid_characters"),
    "ask: NUL character": Row(raw_json("/api/ask", '{"question": "耕地\\u0000保有量"}'), 400, "invalid_characters"),
    "ask: JSON nested 5,000 deep": Row(raw_json("/api/ask", nested(5000)), 400, "invalid_json"),
    "ask: integer of 5,000 digits": Row(raw_json("/api/ask", '{"question": ' + "9" * 5000 + "}"), 400,
                                        "invalid_json"),
    "ask: conversation_id with a newline": Row(
        lambda client, ctx: client.post("/api/ask", json={"question": QUESTION, "conversation_id": "a\n"}),
        400, "invalid_conversation_id"),
    "feedback: lone surrogate": Row(raw_json("/api/feedback", '{"conversation_id": "x", "turn": 1, "rating": "up", '
                                                              '"comment": "\\udfff"}'), 400, "invalid_characters"),
    "feedback: JSON nested 5,000 deep": Row(raw_json("/api/feedback", nested(5000)), 400, "invalid_json"),
    "feedback: integer of 5,000 digits": Row(raw_json("/api/feedback", '{"turn": ' + "1" * 5000 + "}"), 400,
                                             "invalid_json"),
    "feedback: NUL in the comment": Row(
        lambda client, ctx: client.post("/api/feedback", json={
            "conversation_id": ctx["store"].new_id(), "turn": 1, "rating": "up", "comment": "好\x00"}),
        400, "invalid_characters"),
    "admin: days=¹": Row(lambda client, ctx: client.get("/api/admin/stats?days=%C2%B9", headers=ADMIN), 400,
                         "invalid_days"),
    "admin: days=٣ (Arabic-Indic digit)": Row(
        lambda client, ctx: client.get("/api/admin/turns.csv?days=%D9%A3", headers=ADMIN), 400, "invalid_days"),
    "slack: unsigned, timestamp not a number": Row(
        slack("/slack/commands", "text=x", headers=lambda body: {"X-Slack-Request-Timestamp": "soon",
                                                                  "X-Slack-Signature": "v0=00"}),
        401, "invalid_signature"),
    "slack: signed, timestamp not a number": Row(
        slack("/slack/events", "{}", JSON_CT,
              headers=lambda body: {**signed_headers(body), "X-Slack-Request-Timestamp": "1e9"}),
        401, "invalid_signature"),
    "slack: signed but invalid JSON": Row(slack("/slack/events", '{"type": "event_callback", ', JSON_CT), 400,
                                          "invalid_body"),
    "slack: signed JSON that is not an object": Row(slack("/slack/events", "[1, 2]", JSON_CT), 400, "invalid_body"),
    "slack: signed, nested 5,000 deep": Row(slack("/slack/events", "{" + '"a":' * 1 + "[" * 5000 + "]" * 5000 + "}",
                                                  JSON_CT), 400, "invalid_body"),
    "slack: signed command with NUL": Row(slack("/slack/commands", command_body("耕地\x00", "http://127.0.0.1:9/")),
                                          400, "invalid_body"),
    "mattermost: NUL in the text": Row(
        lambda client, ctx: client.post("/mattermost/commands", data="text=%00&trigger_id=t-nul", content_type=FORM,
                                        headers=MM_AUTH), 400, "invalid_characters"),
    "OPTIONS /api/ask": Row(lambda client, ctx: client.options("/api/ask"), 204, None),
    "GET /api/ask": Row(lambda client, ctx: client.get("/api/ask"), 405, "method_not_allowed"),
    "unknown /api/ path": Row(lambda client, ctx: client.get("/api/nothing-here"), 404, "not_found"),
    "unknown page": Row(lambda client, ctx: client.get("/nothing-here"), 404, None, page=True),
    "unknown page, POST": Row(lambda client, ctx: client.post("/documents"), 405, None, page=True),
    # -- point 5: replays and crossings ---------------------------------------------------------------
    "slack: slash command replayed": Row(send_command, 409, "replayed", setup=send_command),
    "mattermost: command replayed (same trigger_id)": Row(send_mattermost, 409, "replayed",
                                                          setup=send_mattermost),
    "mattermost: trigger_id made 10 minutes ago": Row(mattermost_with(lambda: trigger_id("mmu1", 600)), 401,
                                                      "stale_request"),
    "mattermost: trigger_id of another user": Row(mattermost_with(lambda: trigger_id("someone-else")), 401,
                                                  "stale_request"),
    "web: a Slack conversation id starts a new conversation": Row(ask_with(slack_conversation), 200, None, turns=1),
    "web: a made-up id starts a new conversation": Row(ask_with(lambda ctx: "0" * 48), 200, None, turns=1),
    "feedback: on a Slack conversation": Row(feedback_on(slack_conversation), 404, "unknown_conversation"),
    # -- point 6: log amplification -------------------------------------------------------------------
    "slack: 500 KB unsigned body": Row(slack("/slack/events", "x" * 500_000, JSON_CT, headers=lambda body: {}), 401,
                                       "invalid_signature"),
}


@pytest.fixture
def table_app(make_app, slack_api):
    return make_app(SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, MATTERMOST_TOKEN=MM_TOKEN,
                    SLACK_API_BASE_URL=f"{slack_api.url}/api/", ADMIN_TOKEN=ADMIN["Authorization"][7:])


@pytest.mark.parametrize("name", list(ROWS))
def test_row(name, table_app, slack_api, caplog):
    row = ROWS[name]
    client = table_app.test_client()
    store = table_app.extensions["store"]
    ctx = {"app": table_app, "store": store, "slack_api": slack_api}
    if row.setup is not None:
        assert row.setup(client, ctx).status_code == 200
    # a Slack conversation with a turn in it, which a crossing row must neither read nor extend
    slack_cid = slack_conversation(ctx)
    table_app.extensions["qa"].ask("耕地保有量目标是多少？", conversation_id=slack_cid, channel="slack")
    before = store.count_turns()
    slack_api.calls.clear()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = row.send(client, ctx)
    assert response.status_code == row.status, response.get_data(as_text=True)[:500]
    if row.page:
        assert response.mimetype == "text/html" and "政策问答" in response.get_data(as_text=True)
        assert response.headers.get("Allow") or row.status != 405
    elif row.status == 204:
        assert response.get_data() == b"" and "POST" in response.headers["Allow"]
    else:
        assert response.is_json, response.mimetype
        body = response.get_json()
        if row.code is None:
            assert "error" not in body
        else:
            assert body["error"]["code"] == row.code and body["error"]["message"]
    table_app.extensions["slack"].shutdown(wait=True)  # every reply started in the background is done
    assert slack_api.calls == [], "something was sent to Slack"
    assert store.count_turns() == before + row.turns
    assert [t["number"] for t in store.conversation(slack_cid)] == [1], "the Slack conversation was touched"
    if row.turns:
        reply = response.get_json()
        assert reply["conversation_id"] != slack_cid and reply["turn"] == 1
        assert store.issued(reply["conversation_id"])
    # no log line carries a request body: each stays short whatever was sent
    assert all(len(record.getMessage()) < 1000 for record in caplog.records)


def test_admin_page_cannot_be_framed(table_app):
    response = table_app.test_client().get("/admin", headers=ADMIN)
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_store_and_index_are_outside_the_working_tree():
    """Point 8: whatever builds its own settings during the tests writes to a temp folder, never var/."""
    settings = load_settings()
    for name in ("SQLITE_PATH", "INDEX_DIR"):
        assert ROOT not in (ROOT / settings[name]).resolve().parents, (name, settings[name])
    assert settings["DATABASE_URL"] == ""


def test_readyz_fails_and_answers_are_503_while_the_store_is_down(table_app):
    client = table_app.test_client()
    assert client.get("/readyz").status_code == 200
    store = table_app.extensions["store"]
    path = store.sqlite_path
    store.dispose()
    store.url, store.sqlite_path = "postgresql+psycopg://nobody@127.0.0.1:9/gone", None  # nothing listens there
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["error"]["code"] == "store_unavailable"
        asked = client.post("/api/ask", json={"question": QUESTION})
        assert asked.status_code == 503 and asked.get_json()["error"]["code"] == "unavailable"
        assert client.get("/healthz").status_code == 200  # alive, only not ready
    finally:
        store.dispose()
        store.url, store.sqlite_path = f"sqlite:///{path}", path
    assert client.get("/readyz").status_code == 200
    assert json.loads(client.get("/readyz").get_data())["status"] == "ready"


def test_the_service_starts_while_the_store_is_down(make_app, caplog):
    """A database that does not answer at start: alive (/healthz), not ready, questions 503 — never a crash."""
    app = make_app(DATABASE_URL="postgresql://nobody@127.0.0.1:9/gone")  # nothing listens on port 9
    assert "STORE UNAVAILABLE AT START" in caplog.text
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    asked = client.post("/api/ask", json={"question": QUESTION})
    assert asked.status_code == 503 and asked.get_json()["error"]["code"] == "unavailable"
