"""policy-qa stats / export / purge / migrate against a real SQLite store."""
from __future__ import annotations

import csv
import io
import json
import time

import pytest

from service.cli import main
from service.qa.conversation import Turn
from service.store import Store


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("POLICY_QA_SQLITE_PATH", str(path))
    monkeypatch.delenv("POLICY_QA_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    store = Store(f"sqlite:///{path}")
    store.migrate()
    yield store
    store.dispose()


def test_stats_prints_the_queue_with_the_nearest_clause(sqlite_store, capsys):
    near = "gengdi-zhanbu-uaa4b4369"
    sqlite_store.add_turn("c1", Turn("日本的耕地保有量是多少？", "日本的耕地保有量是多少?", "refusal", False, (near,)))
    sqlite_store.add_turn("c2", Turn("耕地保有量目标是多少？", "耕地保有量目标是多少?", "quantity", True, (near,)))
    assert main(["stats", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "2 questions in 2 conversations; answered 1, refused 1, answer rate 50.0%" in out
    assert "x1 (refused 1, down 0)  日本的耕地保有量是多少?  nearest: 《" in out
    assert main(["stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["unanswered"][0]["clause_id"] == near
    assert main(["export", "turns"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["question"] for r in rows] == ["日本的耕地保有量是多少？", "耕地保有量目标是多少？"]


def test_purge_uses_the_retention_setting_or_days(sqlite_store, capsys, monkeypatch):
    sqlite_store.add_turn("old", Turn("旧", "旧", "refusal", False, created=time.time() - 10 * 86400))
    sqlite_store.add_turn("new", Turn("新", "新", "refusal", False))
    monkeypatch.setenv("POLICY_QA_RETENTION_DAYS", "30")
    assert main(["purge"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"]["turns"] == 0
    assert main(["purge", "--days", "5"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "days": 5, "deleted": {"turns": 1, "feedback": 0, "conversations": 1, "events": 0}}
    monkeypatch.setenv("POLICY_QA_RETENTION_DAYS", "0")
    sqlite_store.add_turn("older", Turn("更旧", "更旧", "refusal", False, created=time.time() - 900 * 86400))
    assert main(["purge"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"]["turns"] == 0
    assert sqlite_store.count_turns() == 2
    assert main(["purge", "--days", "-1"]) == 2


def test_migrate_creates_the_schema(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POLICY_QA_SQLITE_PATH", str(tmp_path / "sub" / "fresh.sqlite3"))
    monkeypatch.delenv("POLICY_QA_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert (tmp_path / "sub" / "fresh.sqlite3").exists()
    assert "up to date" in capsys.readouterr().out
