"""Fixtures for the Slack and Mattermost adapters: the shared app factory with both bots on, mock Slack servers."""
from __future__ import annotations

import pytest

from tests.slack.mock_slack import MockSlack
from tests.slack.slack_helpers import BOT_TOKEN, MM_TOKEN, SECRET


@pytest.fixture
def response_url_server():
    server = MockSlack()
    yield server
    server.close()


@pytest.fixture
def make_app(make_app, slack_api):
    """The shared factory with Slack and Mattermost on and the Web API pointed at the mock; overrides win."""

    def make(**overrides):
        return make_app(**{
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_BASE_URL": f"{slack_api.url}/api/", "MATTERMOST_TOKEN": MM_TOKEN, **overrides,
        })

    return make
