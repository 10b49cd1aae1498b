"""Per-client rate limits (Flask-Limiter) and the client address behind TRUSTED_PROXIES proxies."""
from __future__ import annotations

import hmac
import json
import logging

from flask import Flask, current_app, request
from flask_limiter import HeaderNames, Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from slack_sdk.signature import SignatureVerifier
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import error_response

log = logging.getLogger(__name__)

# Endpoints that run the engine; every other route gets RATE_LIMIT_OTHER.
QUESTION_ENDPOINTS = ("api.ask", "slack.slack_request", "slack.mattermost_command")
# Probes must always be answered, and the page's own files cost nothing.
EXEMPT_PATHS = ("/healthz", "/readyz")
EXEMPT_PREFIXES = ("/assets/", "/static/")
LIMITER_RETRY_AFTER = "X-Limiter-Retry-After"  # see _retry_after_only_on_429
# A dead Redis must not make every request wait: fail fast, Flask-Limiter then falls back to memory.
REDIS_OPTIONS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}


def exempt() -> bool:
    """Probes and static files: never limited (/readyz by path, whichever branch adds the route)."""
    return request.path in EXEMPT_PATHS or request.path.startswith(EXEMPT_PREFIXES)


def platform_user() -> str | None:
    """The Slack or Mattermost user a verified bot request comes from (bots share the platform's address)."""
    config = current_app.config
    try:
        if request.path.startswith("/slack/") and config["SLACK_SIGNING_SECRET"]:
            body = request.get_data(cache=True)
            if not SignatureVerifier(config["SLACK_SIGNING_SECRET"]).is_valid_request(body, request.headers):
                return None
            if request.mimetype == "application/json":
                payload = json.loads(body)
                event = payload.get("event") or {}
                team, user = payload.get("team_id"), event.get("user")
            else:
                team, user = request.form.get("team_id"), request.form.get("user_id")
            return f"slack:{team}:{user}" if user else None
        if request.path.startswith("/mattermost/") and config["MATTERMOST_TOKEN"]:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "token" or not hmac.compare_digest(
                    given.strip().encode(), config["MATTERMOST_TOKEN"].encode()):
                return None
            user = request.form.get("user_id")
            return f"mattermost:{request.form.get('team_id')}:{user}" if user else None
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None  # malformed: counted under the address; the route itself refuses it
    return None


def client_key() -> str:
    """Whom a request counts against: the verified platform user for bots, else the client address."""
    return platform_user() or get_remote_address()


def _retry_after_only_on_429(response):
    # Flask-Limiter would send Retry-After with every limited response, and stretch the one a 503 of
    # the store sets; it writes this private header instead, which becomes Retry-After on its 429s only.
    retry_after = response.headers.pop(LIMITER_RETRY_AFTER, None)
    if response.status_code == 429 and retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def register(app: Flask) -> Limiter:
    """Trust TRUSTED_PROXIES hops of X-Forwarded-For, then limit every route but probes and static files."""
    config = app.config
    hops = int(config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    redis_url = config["REDIS_URL"]
    app.after_request(_retry_after_only_on_429)  # registered first, so it runs after Flask-Limiter's
    limiter = Limiter(
        client_key,
        app=app,
        default_limits=[config["RATE_LIMIT_OTHER"]],
        default_limits_exempt_when=exempt,
        strategy="sliding-window-counter",
        storage_uri=redis_url or "memory://",
        storage_options=REDIS_OPTIONS if redis_url else {},
        in_memory_fallback_enabled=True,
        swallow_errors=True,  # a storage error lets the request through, never a 500
        headers_enabled=True,  # X-RateLimit-* and, on a 429, Retry-After
        header_name_mapping={HeaderNames.RETRY_AFTER: LIMITER_RETRY_AFTER},
        key_prefix="policy-qa",
    )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(err: RateLimitExceeded):
        # JSON on every path, pages too; Flask-Limiter adds Retry-After to it
        return error_response(429, "rate_limited", f"请求过于频繁，请稍后再试（上限：{err.limit.limit}）")

    question_limit = limiter.limit(config["RATE_LIMIT"])
    for endpoint in QUESTION_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = question_limit(app.view_functions[endpoint])
    if not redis_url:
        log.info("rate limits counted in memory, per worker process (set REDIS_URL to share them)")
    return limiter
