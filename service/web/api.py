"""POST /api/ask and GET /healthz: a thin JSON adapter over QAEngine.ask."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import OperationalError

from ..qa.engine import QAEngine
from ..store import StoreUnavailable
from .errors import BAD_TEXT_RE, ApiError, error_response

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)

MEANINGFUL_RE = re.compile(r"[\w]", re.UNICODE)
CONVERSATION_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # used with fullmatch: "$" would allow "a\n"
ASK_CHANNELS = ("api", "web")  # slack and mattermost have adapters of their own
# The API's OpenAPI 3.1 description, kept beside the routes; tests/web/test_openapi.py holds the two together.
OPENAPI_FILE = Path(__file__).with_name("openapi.json")


@bp.record_once
def _load_openapi(state) -> None:
    spec = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    # the question's length limit is a setting: the document states this deployment's
    spec["components"]["schemas"]["AskRequest"]["properties"]["question"]["maxLength"] = int(
        state.app.config["MAX_QUESTION_CHARS"])
    state.app.extensions["openapi"] = spec


def engine() -> QAEngine:
    return current_app.extensions["qa"]


def json_body() -> dict:
    """The request's JSON object, or an ApiError saying what is wrong with it."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "请求须为 Content-Type: application/json")
    raw = request.get_data(cache=True)
    if len(raw) > current_app.config["MAX_BODY_BYTES"]:
        raise ApiError(413, "body_too_large", "请求体过大")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ApiError(400, "invalid_encoding", "请求体不是有效的 UTF-8") from err
    except (ValueError, RecursionError) as err:
        # ValueError: malformed JSON, or an integer over Python's 4,300-digit limit;
        # RecursionError: arrays or objects nested a few thousand levels deep
        raise ApiError(400, "invalid_json", "请求体不是有效的 JSON") from err
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "请求体须为 JSON 对象")
    return body


def check_text(text: str) -> str:
    """A string field the service will use: NUL and lone surrogates are refused (fields it ignores may hold them)."""
    if BAD_TEXT_RE.search(text):
        raise ApiError(400, "invalid_characters", "请求中含有无法处理的字符（NUL 或孤立的代理项）")
    return text


def read_question(body: dict) -> tuple[str, str | None]:
    """Validate the question and conversation id of an /api/ask body."""
    question = body.get("question")
    if question is None:
        raise ApiError(400, "missing_question", "缺少 question 字段")
    if not isinstance(question, str):
        raise ApiError(400, "invalid_question", "question 须为字符串")
    question = check_text(question).strip()
    if not question or not MEANINGFUL_RE.search(question):
        raise ApiError(400, "empty_question", "问题不能为空")
    if len(question) > current_app.config["MAX_QUESTION_CHARS"]:
        raise ApiError(400, "question_too_long", f"问题不能超过 {current_app.config['MAX_QUESTION_CHARS']} 个字")
    conversation_id = body.get("conversation_id")
    if conversation_id in (None, ""):
        conversation_id = None
    elif not isinstance(conversation_id, str) or not CONVERSATION_ID_RE.fullmatch(conversation_id):
        raise ApiError(400, "invalid_conversation_id", "conversation_id 格式不正确")
    return question, conversation_id


def read_channel(body: dict) -> str:
    """Which client asked, for the store's statistics: the chat page says "web", others are "api"."""
    channel = body.get("channel", "api")
    if channel not in ASK_CHANNELS:
        raise ApiError(400, "invalid_channel", "channel 须为 \"api\" 或 \"web\"")
    return channel


@bp.post("/api/ask")
def ask():
    body = json_body()
    question, conversation_id = read_question(body)
    channel = read_channel(body)
    if conversation_id is not None and not current_app.extensions["store"].issued(conversation_id):
        # an id this service did not issue (a bot's, or made up) opens a new conversation: the reply
        # carries the id to continue with, and nobody reads or extends someone else's conversation
        conversation_id = None
    answer = engine().ask(question, conversation_id, channel=channel)
    return jsonify(answer.to_json())


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(current_app.extensions["openapi"])


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers and has its corpus; says nothing about the store."""
    qa = engine()
    return jsonify({"status": "ok", "documents": len(qa.documents), "clauses": len(qa.clauses)})


@bp.get("/readyz")
def readyz():
    """Readiness: the store answers and accepts a write; 503 while it does not, so a balancer stops sending."""
    try:
        current_app.extensions["store"].ready()
    except (OperationalError, StoreUnavailable) as err:
        log.warning("not ready: store unavailable: %s", str(getattr(err, "orig", None) or err)[:300])
        response = error_response(503, "store_unavailable", "存储暂时不可用")
        response.headers["Retry-After"] = "5"
        return response
    return jsonify({"status": "ready"})
