"""Shared fixtures: one real engine per test session, the real Flask app and its test client."""
from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app
from service.qa.engine import QAEngine

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PROMPTS = ROOT / "prompts"


@pytest.fixture(scope="session")
def engine() -> QAEngine:
    return QAEngine(CORPUS, PROMPTS)


@pytest.fixture(scope="session")
def app(engine, tmp_path_factory):
    store = tmp_path_factory.mktemp("store") / "policy-qa.sqlite3"
    config = {"CORPUS_DIR": str(CORPUS), "PROMPTS_DIR": str(PROMPTS), "SQLITE_PATH": str(store)}
    return create_app(config, engine=engine)


@pytest.fixture()
def client(app):
    return app.test_client()
