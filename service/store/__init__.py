"""Durable storage: conversations, feedback, the unanswered queue, Slack event ids (SQLite or PostgreSQL)."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from . import report
from .store import (
    Store,
    StoreUnavailable,
    UnknownConversation,
    UnknownTurn,
    client_ip,
    database_url,
    normalize_question,
)

__all__ = [
    "Store", "StoreUnavailable", "UnknownConversation", "UnknownTurn", "client_ip", "normalize_question",
    "open_store", "prepare", "report",
]
log = logging.getLogger(__name__)


def open_store(settings: dict) -> Store:
    """The store the settings name; nothing connects until it is first used."""
    url = database_url(settings["DATABASE_URL"], settings["SQLITE_PATH"])
    return Store(url, busy_timeout_ms=settings["SQLITE_BUSY_TIMEOUT_MS"], secret=settings["CONVERSATION_SECRET"])


def prepare(store: Store, settings: dict) -> None:
    """Migrate, apply retention, then close every connection so none is shared by gunicorn's forks.

    A store that does not answer yet does not stop the service from starting: /readyz fails, requests
    that need it get 503, and the first request after it is back migrates it.
    """
    try:
        store.migrate()
        store.purge(settings["RETENTION_DAYS"])
    except (sa.exc.OperationalError, StoreUnavailable) as err:
        log.error("STORE UNAVAILABLE AT START (%s): serving without it until it answers", err)
    finally:
        store.dispose()
