"""Helpers for the Slack tests: signing, request bodies, fresh ids."""
from __future__ import annotations

import json
import time
import urllib.parse
import uuid

from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
MM_TOKEN = "mm-test-token"
FORM = "application/x-www-form-urlencoded"
JSON_CT = "application/json"


def drain(app) -> None:
    """Wait until every reply the app started in the background has been sent or given up."""
    app.extensions["slack"].shutdown(wait=True)


def unique(prefix: str) -> str:
    """Fresh Slack ids per test, so conversations in the shared engine never meet."""
    return prefix + uuid.uuid4().hex[:10].upper()


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def command_body(text: str, response_url: str, **fields) -> str:
    form = {
        "command": "/policy", "text": text, "team_id": "T0001", "channel_id": unique("C"), "user_id": unique("U"),
        "response_url": response_url, "trigger_id": unique("trig."), "api_app_id": "A0001",
    }
    form.update(fields)
    return urllib.parse.urlencode(form)


def event_body(event: dict, event_id: str | None = None) -> str:
    return json.dumps({
        "token": "unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
        "event_id": event_id or unique("Ev"), "event_time": int(time.time()), "event": event,
    })


def post_signed(client, path: str, body: str, content_type: str = FORM, headers: dict | None = None, **signing):
    """POST body signed as Slack signs it; headers are added after signing (retry markers)."""
    return client.post(path, data=body, content_type=content_type,
                       headers={**signed_headers(body, **signing), **(headers or {})})


def last_turn(app, channel: str, *parts: str):
    """The latest turn the app's engine stored for the conversation these Slack ids name."""
    store = app.extensions["store"]
    return store.last_turn(store.channel_id(channel, *parts))
