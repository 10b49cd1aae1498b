"""POST /api/feedback and the admin pages through the Flask test client, on a real SQLite store."""
from __future__ import annotations

import csv
import io

import pytest

from .conftest import free_port

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(make_app):
    return make_app(ADMIN_TOKEN=TOKEN)


def ask(client, question: str, conversation_id: str | None = None) -> dict:
    body = {"question": question}
    if conversation_id:
        body["conversation_id"] = conversation_id
    response = client.post("/api/ask", json=body)
    assert response.status_code == 200
    return response.get_json()


def test_the_app_answers_from_its_own_store_not_the_shared_engines(app, engine):
    assert app.extensions["qa"].store is app.extensions["store"]
    assert engine.store is not app.extensions["store"]


def test_feedback_is_stored_and_a_second_vote_replaces_the_first(client, app):
    first = ask(client, "耕地保有量目标是多少？")
    reply = client.post("/api/feedback", json={"conversation_id": first["conversation_id"], "turn": 1, "rating": "up"})
    assert reply.status_code == 200
    assert reply.get_json() == {"conversation_id": first["conversation_id"], "turn": 1, "rating": "up",
                                "replaced": False}
    reply = client.post("/api/feedback", json={
        "conversation_id": first["conversation_id"], "turn": 1, "rating": "down", "comment": "  没说永久基本农田  "})
    assert reply.get_json()["replaced"] is True
    turns = app.extensions["store"].conversation(first["conversation_id"])
    assert [(t["rating"], t["comment"]) for t in turns] == [("down", "没说永久基本农田")]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"turn": 1, "rating": "up"}, 400, "missing_conversation_id"),
    ({"conversation_id": "bad id!", "turn": 1, "rating": "up"}, 400, "invalid_conversation_id"),
    ({"conversation_id": 5, "turn": 1, "rating": "up"}, 400, "invalid_conversation_id"),
    ({"conversation_id": "CID", "rating": "up"}, 400, "missing_turn"),
    ({"conversation_id": "CID", "turn": "1", "rating": "up"}, 400, "invalid_turn"),
    ({"conversation_id": "CID", "turn": True, "rating": "up"}, 400, "invalid_turn"),
    ({"conversation_id": "CID", "turn": 0, "rating": "up"}, 400, "invalid_turn"),
    ({"conversation_id": "CID", "turn": 1.5, "rating": "up"}, 400, "invalid_turn"),
    ({"conversation_id": "CID", "turn": 1, "rating": "meh"}, 400, "invalid_rating"),
    ({"conversation_id": "CID", "turn": 1}, 400, "invalid_rating"),
    ({"conversation_id": "CID", "turn": 1, "rating": "up", "comment": ["x"]}, 400, "invalid_comment"),
    ({"conversation_id": "CID", "turn": 1, "rating": "up", "comment": "长" * 1001}, 400, "comment_too_long"),
    ({"conversation_id": "CID", "turn": 2, "rating": "up"}, 404, "unknown_turn"),
    ({"conversation_id": "never-seen", "turn": 1, "rating": "up"}, 404, "unknown_conversation"),
])
def test_bad_feedback_gets_a_json_error(client, body, status, code):
    cid = ask(client, "今天天气怎么样？")["conversation_id"]
    if body.get("conversation_id") == "CID":
        body = {**body, "conversation_id": cid}
    reply = client.post("/api/feedback", json=body)
    assert reply.status_code == status
    assert reply.get_json()["error"]["code"] == code


def test_feedback_body_errors_match_api_ask(client):
    assert client.post("/api/feedback", data="x", content_type="text/plain").status_code == 415
    assert client.post("/api/feedback", data="{", content_type="application/json").get_json()["error"]["code"] \
        == "invalid_json"
    assert client.post("/api/feedback", json=[1]).status_code == 400
    assert client.post("/api/feedback", data=b"\xff", content_type="application/json").status_code == 400
    assert client.post("/api/feedback", json={"comment": "x" * 20000}).status_code == 413
    assert client.get("/api/feedback").status_code == 405


def test_admin_is_off_without_a_token(make_app):
    client = make_app(ADMIN_TOKEN="").test_client()
    for path in ("/admin", "/api/admin/stats", "/api/admin/turns.csv"):
        assert client.get(path, headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/api/admin/stats").get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"])
def test_admin_wants_the_bearer_token(client, header):
    headers = {"Authorization": header} if header else {}
    for path in ("/admin", "/api/admin/stats", "/api/admin/unanswered.csv"):
        reply = client.get(path, headers=headers)
        assert reply.status_code == 401
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/admin/stats", headers=headers).get_json()["error"]["code"] == "unauthorized"


def test_admin_stats_show_the_queue_with_the_near_miss_clause(client, engine):
    refused = ask(client, "日本的耕地保有量是多少？")
    assert refused["answered"] is False and refused["citations"]
    ask(client, "日本的耕地保有量是多少")
    answered = ask(client, "耕地保有量目标是多少？")
    client.post("/api/feedback", json={"conversation_id": answered["conversation_id"], "turn": 1, "rating": "down"})

    stats = client.get("/api/admin/stats?days=7", headers=AUTH).get_json()
    assert (stats["questions"], stats["answered"], stats["refused"], stats["days"]) == (3, 1, 2, 7)
    assert stats["feedback"]["down"] == 1
    down, refusals = stats["unanswered"]
    assert (down["count"], down["down_votes"]) == (1, 1)
    assert down["near_clause"]["clause_id"] == answered["citations"][0]["clause_id"]
    assert (refusals["count"], refusals["refusals"]) == (2, 2)
    near = refusals["near_clause"]
    assert near["clause_id"] == refused["citations"][0]["clause_id"]
    assert near["text"] == engine.by_id[near["clause_id"]].text
    assert client.get("/api/admin/stats?days=0", headers=AUTH).status_code == 400
    assert client.get("/api/admin/stats?days=x", headers=AUTH).get_json()["error"]["code"] == "invalid_days"


def test_admin_page_escapes_what_people_typed(client):
    cid = ask(client, "<script>alert(1)</script>补贴？")["conversation_id"]
    client.post("/api/feedback", json={"conversation_id": cid, "turn": 1, "rating": "down",
                                       "comment": "<img src=x onerror=alert(2)>"})
    page = client.get("/admin", headers=AUTH)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_csv_exports_defuse_formulas(client):
    cid = ask(client, "=HYPERLINK(\"http://x\")是什么？")["conversation_id"]
    ask(client, "那呢？", cid)
    turns = client.get("/api/admin/turns.csv", headers=AUTH)
    assert turns.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(turns.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["number"] for r in rows] == ["1", "2"]
    assert rows[0]["question"].startswith("'=HYPERLINK")
    queue = client.get("/api/admin/unanswered.csv", headers=AUTH).get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(queue)))
    assert rows and all(not r["question"].startswith("=") for r in rows)


def test_client_ip_is_kept_only_when_the_setting_is_on(make_app):
    for flag, expected in ((0, None), (1, "203.0.113.9")):
        app = make_app(STORE_CLIENT_IP=flag)
        reply = app.test_client().post("/api/ask", json={"question": "耕地保有量目标是多少？"},
                                       environ_base={"REMOTE_ADDR": "203.0.113.9"})
        turns = app.extensions["store"].conversation(reply.get_json()["conversation_id"])
        assert [t["client_ip"] for t in turns] == [expected]


def test_a_database_that_went_away_is_a_503_not_a_500(app, client):
    store = app.extensions["store"]
    cid = store.new_id()  # a well-formed id of this server's, so that feedback gets as far as the database
    store.dispose()
    store.url, store.sqlite_path = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone", None  # nothing there
    for path, body in (("/api/ask", {"question": "耕地保有量目标是多少？"}),
                       ("/api/feedback", {"conversation_id": cid, "turn": 1, "rating": "up"})):
        reply = client.post(path, json=body)
        assert reply.status_code == 503
        assert reply.get_json()["error"]["code"] == "unavailable"
        assert reply.headers["Retry-After"] == "5"


def test_the_chat_page_is_counted_as_the_web_channel(client, app):
    web = client.post("/api/ask", json={"question": "耕地保有量目标是多少？", "channel": "web"}).get_json()
    api = ask(client, "耕地保有量目标是多少？")
    store = app.extensions["store"]
    assert store.conversation(web["conversation_id"])[0]["channel"] == "web"
    assert store.conversation(api["conversation_id"])[0]["channel"] == "api"
    reply = client.post("/api/ask", json={"question": "耕地保有量目标是多少？", "channel": "slack"})
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "invalid_channel"
