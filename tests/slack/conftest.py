"""Fixtures for the Slack and Mattermost adapters: the real app and engine, mock Slack servers."""
from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app
from service.config import load_settings
from service.qa.engine import QAEngine
from tests.slack.mock_slack import MockSlack
from tests.slack.slack_helpers import BOT_TOKEN, MM_TOKEN, SECRET


@pytest.fixture(scope="session")
def qa_engine() -> QAEngine:
    settings = load_settings()
    return QAEngine(Path(settings["CORPUS_DIR"]), Path(settings["PROMPTS_DIR"]))


@pytest.fixture
def slack_api():
    server = MockSlack()
    yield server
    server.close()


@pytest.fixture
def response_url_server():
    server = MockSlack()
    yield server
    server.close()


@pytest.fixture
def make_app(qa_engine, slack_api, tmp_path):
    """create_app with Slack and Mattermost on, the Web API pointed at the mock; overrides win."""
    apps = []

    def make(**overrides):
        config = {
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_BASE_URL": f"{slack_api.url}/api/", "MATTERMOST_TOKEN": MM_TOKEN,
            "SQLITE_PATH": str(tmp_path / f"store-{len(apps)}.sqlite3"),  # event ids are reused across tests
        }
        config.update(overrides)
        app = create_app(config, engine=qa_engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if "slack" in app.extensions:
            app.extensions["slack"].shutdown()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
