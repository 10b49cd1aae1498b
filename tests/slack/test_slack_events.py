"""POST /slack/events: url_verification, @mentions and DMs answered in thread, once, whatever Slack does."""
from __future__ import annotations

import json
import logging

import pytest

from service.slack import bot as slack_bot
from service.slack.bot import ERROR_TEXT
from tests.slack.slack_helpers import BOT_TOKEN, drain, event_body, last_turn, post_signed, unique

JSON = "application/json"
POST = "/api/chat.postMessage"
QUESTION = "耕地保有量目标是多少？"


def mention(text: str = f"<@UBOT> {QUESTION}", **fields) -> dict:
    event = {"type": "app_mention", "user": "U0001", "text": text, "ts": unique("1700000000."),
             "channel": unique("C"), "event_ts": "1700000000.000100"}
    event.update(fields)
    return event


def send(client, event: dict, event_id: str | None = None, headers: dict | None = None):
    return post_signed(client, "/slack/events", event_body(event, event_id), JSON, headers)


def test_url_verification_returns_the_challenge(client, slack_api):
    body = json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    response = post_signed(client, "/slack/events", body, JSON)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.get_data(as_text=True)
    assert slack_api.calls == []


def test_mention_is_answered_in_thread_with_its_source(client, slack_api):
    event = mention()
    assert send(client, event).status_code == 200
    drain(client.application)
    [call] = slack_api.calls_to(POST)
    assert call["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    sent = call["body"]
    assert sent["channel"] == event["channel"] and sent["thread_ts"] == event["ts"]
    assert "18.65亿亩" in sent["text"]
    assert "全国耕地保有量不低于18.65亿亩" in sent["blocks"][1]["text"]["text"]
    context = sent["blocks"][-1]["elements"][0]["text"]
    assert "《中共中央办公厅 国务院办公厅关于加强耕地保护提升耕地质量完善占补平衡的意见》" in context
    assert "一、总体要求" in context


def test_followup_in_a_thread_continues_that_thread(client, slack_api):
    first = mention()
    send(client, first)
    assert len(slack_api.wait_for(POST)) == 1  # as in Slack, the follow-up comes after the answer
    followup = mention("<@UBOT> 那永久基本农田呢？", channel=first["channel"], thread_ts=first["ts"])
    send(client, followup)
    drain(client.application)
    assert [c["body"]["thread_ts"] for c in slack_api.calls_to(POST)] == [first["ts"], first["ts"]]
    turn = last_turn(client.application, "slack", "T0001", first["channel"], first["ts"])
    assert turn.question == "那永久基本农田呢？" and "永久基本农田" in turn.resolved


def test_direct_message_is_answered_in_the_dm(client, slack_api):
    event = {"type": "message", "channel_type": "im", "user": "U0001", "text": "哪几类数码产品有购新补贴？",
             "ts": unique("1700000000."), "channel": unique("D")}
    send(client, event)
    drain(client.application)
    [call] = slack_api.calls_to(POST)
    assert call["body"]["channel"] == event["channel"] and "thread_ts" not in call["body"]
    assert "手机、平板、智能手表（手环）3类数码产品购新补贴" in call["body"]["text"]


def test_empty_mention_gets_help(client, slack_api):
    send(client, mention("<@UBOT>"))
    drain(client.application)
    [call] = slack_api.calls_to(POST)
    assert "耕地保有量目标是多少" in call["body"]["text"] and "@我" in call["body"]["text"]


def test_very_long_message_is_told_it_is_too_long(client, slack_api):
    # far above the app's 16 KB body limit: Slack must get its 200, the user a polite reply
    response = send(client, mention(f"<@UBOT> {'耕地' * 5000}"))
    assert response.status_code == 200
    drain(client.application)
    [call] = slack_api.calls_to(POST)
    assert "问题不能超过 500 个字" in call["body"]["text"]


def test_engine_failure_gets_an_apology(client, slack_api, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(client.application.extensions["qa"], "ask", broken)
    send(client, mention(), event_id="EvBROKEN")
    drain(client.application)
    [call] = slack_api.calls_to(POST)
    assert call["body"]["text"] == ERROR_TEXT
    assert "engine failed on Slack request EvBROKEN" in caplog.text


@pytest.mark.parametrize("fields", [
    {"bot_id": "BOURS", "user": "UBOT"},  # our own reply in a DM
    {"bot_id": "BOTHER", "subtype": "bot_message"},  # another bot
    {"subtype": "message_changed"},  # an edit
    {"subtype": "channel_join"},
])
def test_bot_messages_and_edits_are_ignored(client, slack_api, fields):
    event = {"type": "message", "channel_type": "im", "text": QUESTION, "ts": unique("1700000000."),
             "channel": unique("D"), **fields}
    assert send(client, event).status_code == 200
    drain(client.application)
    assert slack_api.calls == []


def test_channel_messages_without_mention_are_ignored(client, slack_api):
    event = {"type": "message", "channel_type": "channel", "user": "U0001", "text": QUESTION,
             "ts": unique("1700000000."), "channel": unique("C")}
    assert send(client, event).status_code == 200
    drain(client.application)
    assert slack_api.calls == []


def test_retried_delivery_gets_no_second_answer(client, slack_api):
    event, event_id = mention(), unique("Ev")
    send(client, event, event_id)
    retry = send(client, event, event_id, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    again = send(client, event, event_id)  # the same event id without retry headers
    assert retry.status_code == 200 and again.status_code == 200
    drain(client.application)
    assert len(slack_api.calls_to(POST)) == 1


def test_redelivery_is_ignored_even_when_first_seen_elsewhere(client, slack_api):
    # The first delivery may be running in another gunicorn worker: a retry is never answered.
    response = send(client, mention(), headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    assert response.status_code == 200
    drain(client.application)
    assert slack_api.calls == []


def test_mention_in_a_dm_arriving_twice_is_answered_once(client, slack_api):
    channel, ts = unique("D"), unique("1700000000.")
    text = f"<@UBOT> {QUESTION}"
    send(client, {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": channel})
    send(client, {"type": "message", "channel_type": "im", "user": "U1", "text": text, "ts": ts, "channel": channel})
    drain(client.application)
    [call] = slack_api.calls_to(POST)
    assert "thread_ts" not in call["body"]  # a DM is answered flat, whichever of the two events came first


def test_channel_not_found_is_logged_and_nothing_crashes(client, slack_api, caplog):
    slack_api.reply(POST, (200, {}, {"ok": False, "error": "channel_not_found"}))
    response = send(client, mention(), event_id="EvLOST1")
    assert response.status_code == 200
    drain(client.application)
    assert len(slack_api.calls_to(POST)) == 1  # no apology: the channel cannot be reached
    record = next(r for r in caplog.records if "EvLOST1" in r.getMessage())
    assert record.levelno == logging.ERROR and "channel_not_found" in record.getMessage()
    assert "slack request id req-" in record.getMessage()


def test_refused_message_gets_a_plain_error_reply(client, slack_api, caplog):
    slack_api.reply(POST, (200, {}, {"ok": False, "error": "invalid_blocks"}), (200, {}, {"ok": True}))
    send(client, mention(), event_id="EvBLOCKS")
    drain(client.application)
    first, second = slack_api.calls_to(POST)
    assert "blocks" in first["body"] and second["body"]["text"] == ERROR_TEXT and "blocks" not in second["body"]
    assert "EvBLOCKS: invalid_blocks" in caplog.text


def test_rate_limit_is_retried_once_after_retry_after(client, slack_api):
    slack_api.reply(POST, (429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"}), (200, {}, {"ok": True}))
    send(client, mention())
    drain(client.application)
    calls = slack_api.calls_to(POST)
    assert len(calls) == 2 and calls[0]["body"] == calls[1]["body"]


def test_rate_limit_that_persists_is_logged(client, slack_api, caplog):
    slack_api.reply(POST, (429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"}))
    send(client, mention(), event_id="EvLIMIT")
    drain(client.application)
    assert len(slack_api.calls_to(POST)) == 2
    assert "EvLIMIT: ratelimited (status 429" in caplog.text


def test_network_down_is_logged_and_the_app_keeps_answering(make_app, caplog):
    client = make_app(SLACK_API_BASE_URL="http://127.0.0.1:9/api/").test_client()
    assert send(client, mention(), event_id="EvNONET").status_code == 200
    body = json.dumps({"type": "url_verification", "challenge": "still-here", "token": "t"})
    assert "still-here" in post_signed(client, "/slack/events", body, JSON).get_data(as_text=True)
    drain(client.application)
    assert "chat.postMessage unreachable for event EvNONET" in caplog.text


def test_api_timeout_is_logged(make_app, slack_api, caplog, monkeypatch):
    monkeypatch.setattr(slack_bot, "API_TIMEOUT_SECONDS", 0.3)
    slack_api.delay(POST, 1.0)
    client = make_app().test_client()
    assert send(client, mention(), event_id="EvSLOW").status_code == 200
    drain(client.application)
    assert "chat.postMessage unreachable for event EvSLOW" in caplog.text


def test_without_bot_token_events_are_acknowledged_and_logged(make_app, slack_api, caplog):
    client = make_app(SLACK_BOT_TOKEN="").test_client()
    assert send(client, mention(), event_id="EvNOTOKEN").status_code == 200
    drain(client.application)
    assert slack_api.calls == []
    assert "cannot answer event EvNOTOKEN: SLACK_BOT_TOKEN is not set" in caplog.text
