"""POST /slack/commands, /slack/events (through Bolt) and /mattermost/commands: thin adapters."""
from __future__ import annotations

import base64
import hmac
import logging
import re
import time

from flask import Blueprint, abort, current_app, jsonify, request
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from ..web.errors import error_response, has_bad_text, logged_path
from .bot import precheck
from .render import escape_markdown, mattermost_text

log = logging.getLogger(__name__)

bp = Blueprint("slack", __name__)

# Slack sends a message's text twice (text and rich-text blocks), up to 40,000 characters each:
# such a body must reach the handler so the user is told the question is too long, not refused
# with 413 (which Slack would redeliver).
MAX_BODY_BYTES = 512 * 1024
# Slack's replay window: a request whose timestamp is further off than this is refused.
SLACK_WINDOW_SECONDS = 5 * 60
TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
SIGNATURE_RE = re.compile(r"v0=[0-9a-f]{64}")


@bp.before_request
def allow_long_messages():
    request.max_content_length = MAX_BODY_BYTES


@bp.post("/slack/commands")
@bp.post("/slack/events")
def slack_request():
    bot = current_app.extensions.get("slack")
    if bot is None:
        abort(404)
    refused = verify_slack(bot)
    if refused is not None:
        return refused
    return bot.handler.handle(request)


def verify_slack(bot):
    """Refuse (401/400/409, one short log line) what Bolt would choke on, log in full or answer twice."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    body = request.get_data(as_text=True)
    fresh = TIMESTAMP_RE.fullmatch(timestamp) and abs(time.time() - int(timestamp)) <= SLACK_WINDOW_SECONDS
    verifier = SignatureVerifier(bot.signing_secret)
    if not (fresh and SIGNATURE_RE.fullmatch(signature) and verifier.is_valid(body, timestamp, signature)):
        # never the body: an unsigned request must not be able to fill the log
        log.warning("refused an unsigned or stale Slack request to %s from %s (%d bytes)",
                    logged_path(), request.remote_addr, len(body))
        return error_response(401, "invalid_signature", "签名无效或已过期")
    try:
        payload = parse_body(body, request.mimetype)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict) or has_bad_text(payload):
        log.warning("refused a signed Slack request to %s with an unreadable body (%d bytes)", logged_path(),
                    len(body))
        return error_response(400, "invalid_body", "请求体无法解析")
    # Slack never redelivers a slash command; a second copy of a signed one is a replay. Signature and
    # timestamp are kept in the shared store, so a replay is refused whichever worker it reaches.
    if request.path == "/slack/commands" and bot.dedup.seen(f"slash:{timestamp}:{signature}"):
        log.warning("refused a replayed Slack slash command (timestamp %s)", timestamp)
        return error_response(409, "replayed", "该请求已处理过")
    return None


def trigger_made(trigger_id: str, user_id: str) -> float | bool | None:
    """When Mattermost made a trigger_id (seconds), False when it names another user, None when not its format.

    Mattermost builds it as base64("<id>:<user id>:<milliseconds>:<base64 signature>"); the signature is
    made with the Mattermost server's own key, which this service does not hold, so only the time and
    the user are read.
    """
    try:
        _, user, millis, _ = base64.b64decode(trigger_id, validate=True).decode().split(":", 3)
        made = int(millis) / 1000
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        return None
    return made if user == user_id else False


@bp.post("/mattermost/commands")
def mattermost_command():
    expected = current_app.config["MATTERMOST_TOKEN"]
    if not expected:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "token" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        log.warning("refused a Mattermost command from %s: wrong or missing token", request.remote_addr)
        return error_response(401, "unauthorized", "令牌无效")
    form = request.form
    if has_bad_text(form.to_dict()):
        return error_response(400, "invalid_characters", "请求中含有无法处理的字符")
    store = current_app.extensions["store"]
    # Mattermost signs nothing for us: the token is the only proof. What its protocol does give is
    # trigger_id, fresh for each command a user runs and stamped with the time it was made, so a
    # captured request is answered once, and not at all once it is older than Slack's window.
    trigger = form.get("trigger_id")
    if trigger:
        made = trigger_made(trigger, form.get("user_id") or "")
        if made is False or (made is not None and abs(time.time() - made) > SLACK_WINDOW_SECONDS):
            log.warning("refused a Mattermost command with a stale or foreign trigger_id")
            return error_response(401, "stale_request", "请求已过期")
        if store.seen(f"mattermost:{trigger}"):
            log.warning("refused a replayed Mattermost command")
            return error_response(409, "replayed", "该请求已处理过")
    engine = current_app.extensions["qa"]
    question = (form.get("text") or "").strip()
    usage = f"{form.get('command') or '/policy'} 耕地保有量目标是多少？"
    early = precheck(engine, question, usage, int(current_app.config["MAX_QUESTION_CHARS"]))
    if early is not None:
        return jsonify(response_type="ephemeral", text=escape_markdown(early))
    cid = store.channel_id("mattermost", form.get("team_id"), form.get("channel_id"), form.get("user_id"))
    answer = engine.ask(question, conversation_id=cid, channel="mattermost")
    return jsonify(response_type=current_app.config["MATTERMOST_RESPONSE_TYPE"], text=mattermost_text(answer))
