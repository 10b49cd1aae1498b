"""POST /api/feedback: one vote per turn, validated like /api/ask, kept in the store."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ..store import Store, StoreUnavailable, UnknownConversation, UnknownTurn, client_ip
from .api import CONVERSATION_ID_RE, check_text, json_body
from .errors import ApiError, error_response, logged_path, wants_json

bp = Blueprint("feedback", __name__)
log = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 1000


def store() -> Store:
    return current_app.extensions["store"]


@bp.before_app_request
def remember_client():
    """Every request sets (or clears) the address a turn may record; workers reuse threads."""
    client_ip.set(request.remote_addr if current_app.config["STORE_CLIENT_IP"] else None)


@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(StoreUnavailable)
def database_unavailable(err: Exception):
    """The database is down, read-only, full, swapped or locked past the busy timeout: 503, nothing acknowledged."""
    log.error("store unavailable on %s: %s", logged_path(), str(getattr(err, "orig", None) or err)[:300])
    if wants_json():
        response = error_response(503, "unavailable", "服务暂时不可用，请稍后再试")
    else:
        response = current_app.response_class("服务暂时不可用，请稍后再试\n", 503, mimetype="text/plain")
    response.headers["Retry-After"] = "5"
    return response


def read_vote(body: dict) -> tuple[str, int, str, str | None]:
    """Validate the conversation id, turn number, rating and comment of a /api/feedback body."""
    conversation_id = body.get("conversation_id")
    if conversation_id in (None, ""):
        raise ApiError(400, "missing_conversation_id", "缺少 conversation_id 字段")
    if not isinstance(conversation_id, str) or not CONVERSATION_ID_RE.fullmatch(conversation_id):
        raise ApiError(400, "invalid_conversation_id", "conversation_id 格式不正确")
    turn = body.get("turn")
    if turn is None:
        raise ApiError(400, "missing_turn", "缺少 turn 字段")
    if isinstance(turn, float) and turn.is_integer():
        turn = int(turn)  # 3.0 is the integer 3 in JSON (and in the OpenAPI schema)
    # bool is an int in Python; true/false is not a turn number
    if isinstance(turn, bool) or not isinstance(turn, int) or not 1 <= turn <= 1_000_000:
        raise ApiError(400, "invalid_turn", "turn 须为正整数")
    rating = body.get("rating")
    if rating not in ("up", "down"):
        raise ApiError(400, "invalid_rating", "rating 须为 \"up\" 或 \"down\"")
    comment = body.get("comment")
    if comment is not None:
        if not isinstance(comment, str):
            raise ApiError(400, "invalid_comment", "comment 须为字符串")
        comment = check_text(comment).strip() or None
        if comment and len(comment) > MAX_COMMENT_CHARS:
            raise ApiError(400, "comment_too_long", f"意见不能超过 {MAX_COMMENT_CHARS} 个字")
    return conversation_id, turn, rating, comment


@bp.post("/api/feedback")
def post_feedback():
    conversation_id, turn, rating, comment = read_vote(json_body())
    if not store().issued(conversation_id):
        # a bot's conversation, or an id this service never gave out: as unknown as a missing one
        raise ApiError(404, "unknown_conversation", "找不到该对话")
    try:
        replaced = store().set_feedback(conversation_id, turn, rating, comment)
    except UnknownConversation as err:
        raise ApiError(404, "unknown_conversation", "找不到该对话") from err
    except UnknownTurn as err:
        raise ApiError(404, "unknown_turn", "该对话中没有这一轮问答") from err
    return jsonify({"conversation_id": conversation_id, "turn": turn, "rating": rating, "replaced": replaced})
