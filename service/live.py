"""app.extensions["qa"]: the current QAEngine, replaced between requests when a new index generation is published.

Each process stats INDEX_DIR/CURRENT at most every RELOAD_CHECK_MS (on a request's way in). When it moved,
a background thread builds the new engine aside (mapped arrays and unpickled clauses, sharing this
engine's tokenizer and templates); the next request to arrive takes it. A request keeps the engine it
started with to its end, so requests in flight finish on the old one, which is freed after them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from .qa.engine import QAEngine
from .qa.generations import pointer_signature

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_S = 5.0


class LiveEngine:
    """Delegates attribute access to the current engine: adapters use it as they would a QAEngine."""

    def __init__(self, engine: QAEngine, rebuild: Callable[[QAEngine], QAEngine], index_dir: Path,
                 check_ms: int, signature: tuple[int, int] | None):
        self._engine = engine
        self._rebuild = rebuild
        self._index_dir = index_dir
        self._check_s = check_ms / 1000
        self._seen = signature  # CURRENT as it was when the current engine was opened
        self._next_check = 0.0
        self._pending: tuple[QAEngine, tuple[int, int] | None] | None = None
        self._builder: threading.Thread | None = None
        self._lock = threading.Lock()
        self._request = threading.local()
        self.switches = 0

    # ---- what adapters see -------------------------------------------------------------------
    @property
    def engine(self) -> QAEngine:
        """The engine this request started with (outside a request: the newest one)."""
        pinned = getattr(self._request, "engine", None)
        return pinned if pinned is not None else self._engine

    @property
    def switching(self) -> bool:
        """A new engine is being built or waits for the next request."""
        builder = self._builder
        return self._pending is not None or (builder is not None and builder.is_alive())

    def __getattr__(self, name: str):
        return getattr(self.engine, name)

    # ---- the safe point ------------------------------------------------------------------------
    def begin_request(self) -> None:
        """Take a finished new engine, look (cheaply) for a newer generation, pin the engine for this request."""
        with self._lock:
            if self._pending is not None:
                self._engine, self._seen = self._pending
                self._pending = None
                self.switches += 1
                log.info("switched to the new index generation (%d clauses)", len(self._engine.clauses))
            now = time.monotonic()
            if now >= self._next_check and (self._builder is None or not self._builder.is_alive()):
                self._next_check = now + self._check_s
                signature = pointer_signature(self._index_dir)
                if signature is not None and signature != self._seen:
                    self._builder = threading.Thread(target=self._build, args=(self._engine, signature),
                                                     name="policy-qa-reload", daemon=True)
                    self._builder.start()
            self._request.engine = self._engine

    def end_request(self) -> None:
        self._request.engine = None

    def _build(self, old: QAEngine, signature: tuple[int, int]) -> None:
        try:
            new = self._rebuild(old)
        except Exception:  # the old engine keeps serving; try again a little later
            log.exception("could not open the new index generation in %s", self._index_dir)
            with self._lock:
                self._next_check = time.monotonic() + RETRY_AFTER_FAILURE_S
            return
        with self._lock:
            self._pending = (new, signature)


def install(app: Flask, engine: QAEngine, settings: dict, index_dir: Path,
            signature: tuple[int, int] | None) -> LiveEngine:
    """Wrap `engine` (opened when CURRENT had `signature`) so the app follows new generations."""
    corpus_dir, prompts_dir = Path(settings["CORPUS_DIR"]), Path(settings["PROMPTS_DIR"])

    def rebuild(old: QAEngine) -> QAEngine:
        return QAEngine(corpus_dir, prompts_dir, store=old.store, index_dir=index_dir, resources=old)

    live = LiveEngine(engine, rebuild, index_dir, settings["RELOAD_CHECK_MS"], signature)
    app.before_request(live.begin_request)
    app.teardown_request(lambda _exc: live.end_request())
    return live
