"""Settings and switches: routes off without secrets, plain env names, bad settings refused at start."""
from __future__ import annotations

import json
import logging

import pytest

from service.config import load_settings
from tests.slack.slack_helpers import JSON_CT, post_signed


def test_slack_routes_off_without_signing_secret(make_app, caplog):
    caplog.set_level(logging.INFO, logger="service.slack")
    client = make_app(SLACK_SIGNING_SECRET="").test_client()
    assert "Slack routes off (404): SLACK_SIGNING_SECRET is not set" in caplog.text
    body = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"})
    for path in ("/slack/commands", "/slack/events"):
        response = post_signed(client, path, body, JSON_CT)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_error(client):
    response = client.get("/slack/events")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_secrets_read_from_plain_env_names(monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "plain")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-plain")
    monkeypatch.setenv("MATTERMOST_TOKEN", "mm-plain")
    monkeypatch.delenv("POLICY_QA_SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.setenv("POLICY_QA_SLACK_BOT_TOKEN", "xoxb-prefixed")
    settings = load_settings()
    assert settings["SLACK_SIGNING_SECRET"] == "plain" and settings["MATTERMOST_TOKEN"] == "mm-plain"
    assert settings["SLACK_BOT_TOKEN"] == "xoxb-prefixed"  # the service's own name wins


def test_only_secrets_have_plain_names(monkeypatch):
    monkeypatch.setenv("SLACK_RESPONSE_TYPE", "in_channel")
    monkeypatch.delenv("POLICY_QA_SLACK_RESPONSE_TYPE", raising=False)
    assert load_settings()["SLACK_RESPONSE_TYPE"] == "ephemeral"


@pytest.mark.parametrize("config, problem", [
    ({"SLACK_SIGNING_SECRET": "s", "SLACK_RESPONSE_TYPE": "public"}, "SLACK_RESPONSE_TYPE"),
    ({"MATTERMOST_RESPONSE_TYPE": "everyone"}, "MATTERMOST_RESPONSE_TYPE"),
    ({"SLACK_SIGNING_SECRET": "s", "SLACK_ACK_BUDGET_MS": 3000}, "SLACK_ACK_BUDGET_MS"),
])
def test_bad_settings_refused_at_start(make_app, config, problem):
    with pytest.raises(ValueError, match=problem):
        make_app(**{"SLACK_SIGNING_SECRET": "", "MATTERMOST_TOKEN": "", **config})
