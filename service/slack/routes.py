"""POST /slack/commands, /slack/events (through Bolt) and /mattermost/commands: thin adapters."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, current_app, jsonify, request

from ..web.errors import error_response
from .bot import conversation_id, precheck
from .render import escape_markdown, mattermost_text

log = logging.getLogger(__name__)

bp = Blueprint("slack", __name__)

# Slack sends a message's text twice (text and rich-text blocks), up to 40,000 characters each:
# such a body must reach the handler so the user is told the question is too long, not refused
# with 413 (which Slack would redeliver).
MAX_BODY_BYTES = 512 * 1024


@bp.before_request
def allow_long_messages():
    request.max_content_length = MAX_BODY_BYTES


@bp.post("/slack/commands")
@bp.post("/slack/events")
def slack_request():
    bot = current_app.extensions.get("slack")
    if bot is None:
        abort(404)
    return bot.handler.handle(request)


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
    engine = current_app.extensions["qa"]
    question = (form.get("text") or "").strip()
    usage = f"{form.get('command') or '/policy'} 耕地保有量目标是多少？"
    early = precheck(engine, question, usage, int(current_app.config["MAX_QUESTION_CHARS"]))
    if early is not None:
        return jsonify(response_type="ephemeral", text=escape_markdown(early))
    cid = conversation_id("mattermost", form.get("team_id"), form.get("channel_id"), form.get("user_id"))
    answer = engine.ask(question, conversation_id=cid, channel="mattermost")
    return jsonify(response_type=current_app.config["MATTERMOST_RESPONSE_TYPE"], text=mattermost_text(answer))
