"""Slack and Mattermost adapters: each route is on only when its secret is configured."""
from __future__ import annotations

import logging

from flask import Flask

from .bot import RESPONSE_TYPES, SlackBot
from .dedup import Dedup, MemoryDedup
from .routes import bp

log = logging.getLogger(__name__)


def register(app: Flask, dedup: Dedup | None = None) -> None:
    """Mount /slack/* and /mattermost/commands; dedup defaults to this process's memory."""
    for name in ("SLACK_RESPONSE_TYPE", "MATTERMOST_RESPONSE_TYPE"):
        if app.config[name] not in RESPONSE_TYPES:
            raise ValueError(f"{name} must be one of {RESPONSE_TYPES}, not {app.config[name]!r}")
    if app.config["SLACK_SIGNING_SECRET"]:
        app.extensions["slack"] = SlackBot(app, dedup or MemoryDedup())
    else:
        log.info("Slack routes off (404): SLACK_SIGNING_SECRET is not set")
    if not app.config["MATTERMOST_TOKEN"]:
        log.info("Mattermost route off (404): MATTERMOST_TOKEN is not set")
    app.register_blueprint(bp)
