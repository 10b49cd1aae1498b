"""The one fixture set: a real engine per session, the real Flask app and its client, all state in temp folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from service import create_app
from service.qa.engine import QAEngine
from tests.slack.mock_slack import MockSlack

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PROMPTS = ROOT / "prompts"
# Where the settings would put state by default (var/): tests point every one of them elsewhere.
STATE_SETTINGS = ("SQLITE_PATH", "INDEX_DIR", "DATABASE_URL")


def isolated(directory: Path, **overrides) -> dict:
    """Settings for an app whose store lives in `directory` and whose index stays in memory."""
    config = {"CORPUS_DIR": str(CORPUS), "PROMPTS_DIR": str(PROMPTS), "DATABASE_URL": "",
              "SQLITE_PATH": str(directory / "policy-qa.sqlite3"), "INDEX_DIR": "", "LOG_LEVEL": "WARNING"}
    config.update(overrides)
    return config


@pytest.fixture(scope="session", autouse=True)
def state_outside_the_working_tree(tmp_path_factory):
    """Defaults for anything that builds its own settings (a subprocess, create_app(None)): never var/."""
    folder = tmp_path_factory.mktemp("default-state")
    saved = {name: os.environ.get(f"POLICY_QA_{name}") for name in STATE_SETTINGS}
    os.environ["POLICY_QA_SQLITE_PATH"] = str(folder / "policy-qa.sqlite3")
    os.environ["POLICY_QA_INDEX_DIR"] = str(folder / "index")
    os.environ["POLICY_QA_DATABASE_URL"] = ""  # a developer's DATABASE_URL is not the tests' to write to
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(f"POLICY_QA_{name}", None)
        else:
            os.environ[f"POLICY_QA_{name}"] = value


@pytest.fixture(scope="session")
def engine() -> QAEngine:
    return QAEngine(CORPUS, PROMPTS)


@pytest.fixture
def make_app(engine, tmp_path):
    """create_app on the shared engine with a store of the test's own; keyword settings win."""
    apps = []

    def make(**overrides):
        app = create_app(isolated(tmp_path / f"app-{len(apps)}", **overrides), engine=engine)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if "slack" in app.extensions:
            app.extensions["slack"].shutdown()
        app.extensions["store"].dispose()


@pytest.fixture
def slack_api():
    """A local stand-in for Slack's Web API that records every call."""
    server = MockSlack()
    yield server
    server.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
