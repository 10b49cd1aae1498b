"""POST /mattermost/commands: Slack-style form, token auth, Markdown answers."""
from __future__ import annotations

import urllib.parse

import pytest

from tests.slack.slack_helpers import FORM, MM_TOKEN, last_turn, unique


def form(text: str, **fields) -> str:
    values = {"channel_id": unique("mmc"), "channel_name": "town-square", "command": "/policy",
              "response_url": "http://127.0.0.1:9/hooks/commands/x", "team_domain": "policy", "team_id": "mmteam",
              "text": text, "token": MM_TOKEN, "trigger_id": unique("tr"), "user_id": unique("mmu"),
              "user_name": "li"}
    values.update(fields)
    return urllib.parse.urlencode(values)


def test_right_token_gets_markdown_answer_with_source(client):
    response = client.post("/mattermost/commands", data=form("耕地保有量目标是多少？"), content_type=FORM,
                           headers={"Authorization": f"Token {MM_TOKEN}"})
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["response_type"] == "ephemeral"
    assert "18.65亿亩" in reply["text"]
    assert "\n> 主要目标是：" in reply["text"]
    source = "**来源**：《中共中央办公厅 国务院办公厅关于加强耕地保护提升耕地质量完善占补平衡的意见》 一、总体要求"
    assert source in reply["text"]


@pytest.mark.parametrize("authorization", [None, "Token wrong-token", f"Bearer {MM_TOKEN}", "Token", f"{MM_TOKEN}"])
def test_wrong_or_missing_token_gets_401_and_no_answer(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    body = form("耕地保有量目标是多少？", channel_id="mmcDENIED", user_id="mmuDENIED")
    response = client.post("/mattermost/commands", data=body, content_type=FORM, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert last_turn(client.application, "mattermost", "mmteam", "mmcDENIED", "mmuDENIED") is None


def test_empty_text_gets_help(client):
    response = client.post("/mattermost/commands", data=form(""), content_type=FORM,
                           headers={"Authorization": f"Token {MM_TOKEN}"})
    assert response.status_code == 200 and "耕地保有量目标是多少" in response.get_json()["text"]


def test_in_channel_setting(make_app):
    client = make_app(MATTERMOST_RESPONSE_TYPE="in_channel").test_client()
    response = client.post("/mattermost/commands", data=form("哪几类数码产品有购新补贴？"), content_type=FORM,
                           headers={"Authorization": f"Token {MM_TOKEN}"})
    assert response.get_json()["response_type"] == "in_channel"


def test_off_without_token(make_app):
    client = make_app(MATTERMOST_TOKEN="").test_client()
    response = client.post("/mattermost/commands", data=form("耕地保有量目标是多少？"), content_type=FORM,
                           headers={"Authorization": "Token "})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
