"""Errors: JSON on /api/ (and the bot routes), a polite Chinese page elsewhere; never a stack trace."""
from __future__ import annotations

import logging
import re

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
         409: "replayed", 413: "body_too_large", 415: "unsupported_media_type", 429: "rate_limited",
         500: "internal_error", 503: "unavailable"}
MESSAGES = {400: "请求格式不正确", 404: "没有找到这个页面", 405: "不支持该请求方法", 413: "请求体过大",
            415: "不支持的请求类型", 429: "请求过于频繁，请稍后再试", 500: "服务器内部错误，请稍后再试",
            503: "服务暂时不可用，请稍后再试"}
JSON_PREFIXES = ("/api/", "/slack/", "/mattermost/")
JSON_PATHS = ("/healthz", "/readyz")
# NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8) come only from
# \u escapes in JSON; no question or comment needs them.
BAD_TEXT_RE = re.compile("[\x00\ud800-\udfff]")
LOGGED_PATH_CHARS = 200  # log lines stay bounded whatever the client sends


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.path in JSON_PATHS


def logged_path() -> str:
    return request.path[:LOGGED_PATH_CHARS]


def has_bad_text(value: object) -> bool:
    """True when any string in a parsed JSON value holds NUL or a lone surrogate (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if BAD_TEXT_RE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def page_response(status: int, message: str):
    """The Chinese error page for a browser, outside /api/."""
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.code, err.message)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        message = MESSAGES.get(status, err.name)
        if wants_json():
            response = error_response(status, CODES.get(status, "error"), message)
        else:
            response = app.make_response(page_response(status, message))
        if status == 405 and err.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(err.valid_methods))
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s", logged_path())
        if wants_json():
            return error_response(500, "internal_error", MESSAGES[500])
        return page_response(500, MESSAGES[500])

    @app.after_request
    def _options(response):
        # Flask answers OPTIONS itself with an empty 200 text/html; a preflight wants 204 and Allow
        if request.method == "OPTIONS" and response.status_code == 200 and not response.get_data():
            response.status_code = 204
            response.headers.pop("Content-Type", None)
        return response
