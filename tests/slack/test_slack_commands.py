"""POST /slack/commands: signed slash commands answered with the cited source."""
from __future__ import annotations

import json
import urllib.parse

import pytest

from service.slack.bot import WORKING_TEXT
from tests.slack.slack_helpers import FORM, command_body, drain, last_turn, post_signed, signed_headers

QUESTION = "耕地保有量目标是多少？"
DOCUMENT = "中共中央办公厅 国务院办公厅关于加强耕地保护提升耕地质量完善占补平衡的意见"


def all_text(message: dict) -> str:
    """Every piece of mrkdwn a Block Kit message shows."""
    parts = []
    for block in message.get("blocks", []):
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts += [e["text"] for e in block["elements"]]
    return "\n".join(parts)


def assert_cited_answer(message: dict) -> None:
    assert "18.65亿亩" in message["text"] and DOCUMENT in message["text"]  # plain fallback
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds[0] == "section" and kinds[-1] == "context"
    assert "18.65亿亩" in message["blocks"][0]["text"]["text"]
    quote = message["blocks"][1]["text"]["text"]
    assert quote.startswith("> ") and "全国耕地保有量不低于18.65亿亩" in quote
    context = " ".join(e["text"] for e in message["blocks"][-1]["elements"])
    assert f"《{DOCUMENT}》" in context and "一、总体要求" in context


def test_command_answers_in_the_ack_with_its_source(client, slack_api, response_url_server):
    response = post_signed(client, "/slack/commands", command_body(QUESTION, f"{response_url_server.url}/hook"))
    assert response.status_code == 200
    message = response.get_json()
    assert message["response_type"] == "ephemeral"
    assert_cited_answer(message)
    drain(client.application)
    assert slack_api.calls == [] and response_url_server.calls == []


def test_slow_answer_goes_to_response_url(make_app, response_url_server):
    client = make_app(SLACK_ACK_BUDGET_MS=0, SLACK_RESPONSE_TYPE="in_channel").test_client()
    response = post_signed(client, "/slack/commands", command_body(QUESTION, f"{response_url_server.url}/hook/1"))
    assert response.status_code == 200
    assert response.get_json() == {"text": WORKING_TEXT, "response_type": "ephemeral"}
    drain(client.application)
    [call] = response_url_server.calls_to("/hook/1")
    assert call["body"]["response_type"] == "in_channel"
    assert_cited_answer(call["body"])


def test_response_url_failure_is_logged(make_app, response_url_server, caplog):
    response_url_server.reply("/hook/2", (500, {}, {"ok": False}))
    client = make_app(SLACK_ACK_BUDGET_MS=0).test_client()
    body = command_body(QUESTION, f"{response_url_server.url}/hook/2", trigger_id="trig.broken")
    assert post_signed(client, "/slack/commands", body).status_code == 200
    drain(client.application)
    assert len(response_url_server.calls_to("/hook/2")) == 1
    assert "response_url refused the answer to trig.broken: 500" in caplog.text


def test_in_channel_setting(make_app, response_url_server):
    client = make_app(SLACK_RESPONSE_TYPE="in_channel").test_client()
    response = post_signed(client, "/slack/commands", command_body(QUESTION, f"{response_url_server.url}/hook"))
    assert response.get_json()["response_type"] == "in_channel"


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_command_gets_help_with_examples(client, text, response_url_server):
    response = post_signed(client, "/slack/commands", command_body(text, f"{response_url_server.url}/hook"))
    message = response.get_json()
    assert response.status_code == 200 and message["response_type"] == "ephemeral"
    assert "耕地保有量目标是多少" in message["text"] and "/policy" in message["text"]


def test_too_long_question_is_told_so(client, response_url_server):
    body = command_body("耕地" * 300, f"{response_url_server.url}/hook")
    message = post_signed(client, "/slack/commands", body).get_json()
    assert "不能超过 500 个字" in message["text"]


def test_refusal_gets_the_refusal_text_only(client, response_url_server):
    message = post_signed(client, "/slack/commands", command_body("今天天气怎么样？", "http://unused")).get_json()
    assert message["text"].startswith("抱歉，现有政策文件中没有找到")
    assert [b["type"] for b in message["blocks"]] == ["section"]


def test_followup_in_the_same_channel_continues_the_conversation(client, response_url_server):
    fields = {"team_id": "T0001", "channel_id": "CFOLLOW", "user_id": "UFOLLOW"}
    hook = f"{response_url_server.url}/hook"
    post_signed(client, "/slack/commands", command_body(QUESTION, hook, **fields))
    post_signed(client, "/slack/commands", command_body("那永久基本农田呢？", hook, **fields))
    turn = last_turn(client.application, "slack", "T0001", "CFOLLOW", "UFOLLOW")
    assert turn.question == "那永久基本农田呢？" and "永久基本农田" in turn.resolved and turn.answered


def forged(body):
    headers = signed_headers(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    return headers


def wrong_secret(body):
    return signed_headers(body, secret="not-the-secret")


def stale(body):
    return signed_headers(body, timestamp=1_600_000_000)


def no_signature(body):
    return {k: v for k, v in signed_headers(body).items() if k != "X-Slack-Signature"}


def no_timestamp(body):
    return {k: v for k, v in signed_headers(body).items() if k != "X-Slack-Request-Timestamp"}


@pytest.mark.parametrize("make_headers", [forged, wrong_secret, stale, no_signature, no_timestamp, lambda b: {}])
@pytest.mark.parametrize("path", ["/slack/commands", "/slack/events"])
def test_unverified_requests_get_401_and_nothing_happens(client, slack_api, response_url_server,
                                                         make_headers, path):
    body = command_body(QUESTION, f"{response_url_server.url}/hook", channel_id="CFORGED", user_id="UFORGED")
    if path == "/slack/events":
        body = json.dumps({"type": "url_verification", "challenge": "xyz", "token": "t"})
    response = client.post(path, data=body, content_type=FORM, headers=make_headers(body))
    assert response.status_code == 401
    assert "xyz" not in response.get_data(as_text=True) and "18.65" not in response.get_data(as_text=True)
    drain(client.application)
    assert slack_api.calls == [] and response_url_server.calls == []
    assert last_turn(client.application, "slack", "T0001", "CFORGED", "UFORGED") is None


def test_body_altered_after_signing_is_refused(client, response_url_server):
    body = command_body(QUESTION, f"{response_url_server.url}/hook")
    headers = signed_headers(body)
    altered = body.replace(urllib.parse.quote("耕地"), urllib.parse.quote("林地"))
    assert client.post("/slack/commands", data=altered, content_type=FORM, headers=headers).status_code == 401
