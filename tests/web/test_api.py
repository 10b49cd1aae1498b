"""POST /api/ask and /healthz through the real Flask app: the contract and every bad input."""
from __future__ import annotations

import json

import pytest


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
    return client.post("/api/ask", data=data, content_type=content_type)


def test_contract_shape(client):
    r = post(client, {"question": "耕地保有量目标是多少？"})
    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body["answered"] is True and isinstance(body["answer"], str) and len(body["answer"]) <= 300
    assert isinstance(body["conversation_id"], str) and body["conversation_id"]
    c = body["citations"][0]
    assert {"document", "section", "text", "source", "score"} <= set(c)
    assert c["source"].startswith("corpus/raw/") and isinstance(c["score"], float)
    # the farmland opinion is printed three times: the other printings are named as alternates
    assert {a["source"] for a in c["alternates"]} == {
        "corpus/raw/003_8251f8b8a7e3f476.txt", "corpus/raw/004_801e1c0ba3d2f08c.txt",
    }


def test_followup_over_http(client):
    first = post(client, {"question": "耕地保有量目标是多少？"}).get_json()
    second = post(client, {"question": "那永久基本农田呢？", "conversation_id": first["conversation_id"]}).get_json()
    assert second["answered"] and "15.46亿亩" in second["answer"]
    assert second["conversation_id"] == first["conversation_id"] and second["turn"] == 2


def test_refusal_over_http(client):
    body = post(client, {"question": "今天天气怎么样？"}).get_json()
    assert body["answered"] is False and body["answer"]


def test_charset_in_content_type_is_fine(client):
    r = post(client, {"question": "耕地保有量目标是多少？"}, "application/json; charset=utf-8")
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ({}, "application/json", 400, "missing_question"),
        ({"question": ""}, "application/json", 400, "empty_question"),
        ({"question": "   \n\t "}, "application/json", 400, "empty_question"),
        ({"question": "？？！！。。"}, "application/json", 400, "empty_question"),
        ({"question": 42}, "application/json", 400, "invalid_question"),
        ({"question": None}, "application/json", 400, "missing_question"),
        ({"question": "耕" * 501}, "application/json", 400, "question_too_long"),
        ({"question": "耕地", "conversation_id": "<script>"}, "application/json", 400, "invalid_conversation_id"),
        ({"question": "耕地", "conversation_id": 7}, "application/json", 400, "invalid_conversation_id"),
        ('{"question": "耕地"', "application/json", 400, "invalid_json"),
        ("", "application/json", 400, "invalid_json"),
        (b'{"question": "\xff\xfe"}', "application/json", 400, "invalid_encoding"),
        ('["耕地保有量目标是多少？"]', "application/json", 400, "invalid_json"),
        ("question=耕地", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("耕地保有量", "text/plain", 415, "unsupported_media_type"),
        ({"question": "耕地" + " " * 17000}, "application/json", 413, "body_too_large"),
    ],
)
def test_bad_input_gets_a_json_error(client, body, content_type, status, code):
    r = post(client, body, content_type)
    assert r.status_code == status and r.is_json
    assert r.get_json()["error"]["code"] == code and r.get_json()["error"]["message"]


def test_bad_input_changes_nothing(client, engine):
    before = engine.ask("耕地保有量目标是多少？").text
    post(client, '{"question": ', "application/json")
    post(client, {"question": "耕" * 600})
    assert engine.ask("耕地保有量目标是多少？").text == before


def test_unknown_api_route_and_method_are_json(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and r.is_json
    r = client.get("/api/ask")
    assert r.status_code == 405 and r.is_json


@pytest.mark.parametrize(
    "question",
    ["<img src=x onerror=alert(1)>", "'; DROP TABLE turns; --", "\u202e耕地", "耕地保有量" * 90, "🌾🌾 耕地？"],
)
def test_hostile_questions_are_answered_or_refused(client, question):
    r = post(client, {"question": question})
    assert r.status_code == 200 and isinstance(r.get_json()["answered"], bool)


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["clauses"] > 100 and body["documents"] >= 3
