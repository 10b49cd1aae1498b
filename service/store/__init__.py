"""Durable storage: conversations, feedback, the unanswered queue, Slack event ids (SQLite or PostgreSQL)."""
from __future__ import annotations

from . import report
from .store import Store, UnknownConversation, UnknownTurn, client_ip, database_url, normalize_question

__all__ = [
    "Store", "UnknownConversation", "UnknownTurn", "client_ip", "normalize_question", "open_store", "prepare",
    "report",
]


def open_store(settings: dict) -> Store:
    """The store the settings name; nothing connects until it is first used."""
    url = database_url(settings["DATABASE_URL"], settings["SQLITE_PATH"])
    return Store(url, busy_timeout_ms=settings["SQLITE_BUSY_TIMEOUT_MS"])


def prepare(store: Store, settings: dict) -> None:
    """Migrate, apply retention, then close every connection so none is shared by gunicorn's forks."""
    store.migrate()
    store.purge(settings["RETENTION_DAYS"])
    store.dispose()
