"""Fixtures for the web adapters: one engine per session, a fresh app per test, a real server for the browser."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service import create_app
from tests.conftest import isolated

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(engine, tmp_path_factory) -> Iterator[str]:
    """The real app on a free loopback port, served by werkzeug in a thread for the whole session."""
    app = create_app(isolated(tmp_path_factory.mktemp("live")), engine=engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    app.extensions["store"].dispose()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        reason = f"{CHROMIUM} is missing; run .ci/page-deps.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI must run the browser tests, never skip them
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (empty localStorage) on the chat page, failing on any page-side JS error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda err: errors.append(str(err)))

    def on_console(msg):
        # a CSP violation means the page tried to run or load something it must not
        if msg.type == "error" and "Content Security Policy" in msg.text:
            errors.append(msg.text)

    pg.on("console", on_console)
    yield pg
    context.close()
    assert not errors, f"errors in the page: {errors}"
