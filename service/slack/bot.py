"""The Bolt app: slash commands, @mentions and direct messages answered from the engine, with sources."""
from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Flask
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from ..qa.engine import QAEngine
from .dedup import Dedup
from .render import slack_message, slack_notice

log = logging.getLogger(__name__)

RESPONSE_TYPES = ("ephemeral", "in_channel")
MENTION_RE = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
WORKING_TEXT = "正在查找相关政策原文，请稍候…"
ERROR_TEXT = "抱歉，处理您的问题时出错了，请稍后再试。"
API_TIMEOUT_SECONDS = 10
MAX_ACK_BUDGET_MS = 2500  # Bolt stops waiting for ack() after 3 s, and so does Slack
# Errors after which no message can reach that conversation at all, so no apology is attempted.
UNDELIVERABLE = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "ratelimited", "not_authed", "invalid_auth",
    "account_inactive", "token_revoked", "token_expired", "missing_scope", "restricted_action",
})


def precheck(engine: QAEngine, question: str, usage: str, max_chars: int) -> str | None:
    """The reply to a question that should not reach the engine (empty, too long), or None."""
    if not question:
        return f"{engine.help_text}\n用法：{usage}"
    if len(question) > max_chars:
        return f"问题不能超过 {max_chars} 个字，请精简后再问。"
    return None


def slack_text(raw: str) -> str:
    """A message's text as the user typed it: mentions dropped, Slack's three entities decoded."""
    text = MENTION_RE.sub(" ", raw)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _header(headers: dict, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return "-"


class SlackBot:
    """One Bolt app bound to one Flask app, with the thread pools its listeners and answers run on."""

    def __init__(self, flask_app: Flask, dedup: Dedup):
        config = flask_app.config
        self.flask_app = flask_app
        self.dedup = dedup
        self.signing_secret = config["SLACK_SIGNING_SECRET"]
        self.token = config["SLACK_BOT_TOKEN"] or None
        self.response_type = config["SLACK_RESPONSE_TYPE"]
        budget = int(config["SLACK_ACK_BUDGET_MS"])
        if not 0 <= budget <= MAX_ACK_BUDGET_MS:
            raise ValueError(f"SLACK_ACK_BUDGET_MS must be between 0 and {MAX_ACK_BUDGET_MS}, not {budget}")
        self.ack_budget = budget / 1000
        self.max_chars = int(config["MAX_QUESTION_CHARS"])
        # Created before gunicorn forks but start no thread until the first request in a worker.
        self.listeners = ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack-listener")
        self.askers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-ask")
        base_url = config["SLACK_API_BASE_URL"].rstrip("/") + "/"  # the client appends method names
        client = WebClient(base_url=base_url, timeout=API_TIMEOUT_SECONDS)
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
        # authorize= instead of token= keeps Bolt from calling auth.test (at start or on the first
        # request): the bot's own messages are recognised by bot_id in the listener instead.
        self.bolt = App(
            signing_secret=config["SLACK_SIGNING_SECRET"],
            authorize=self.authorize_function(),
            client=client,
            listener_executor=self.listeners,
            logger=logging.getLogger("slack_bolt"),
        )
        self.bolt.middleware(self.take_once)
        self.bolt.command(re.compile(r"^/"))(self.on_command)
        self.bolt.event("app_mention")(self.on_message)
        self.bolt.event("message")(self.on_message)
        self.handler = SlackRequestHandler(self.bolt)
        if not self.token:
            log.warning("SLACK_BOT_TOKEN is not set: slash commands work, @mentions and DMs cannot be answered")

    def authorize_function(self):
        """Bolt's authorize hook (a plain function: Bolt reads its argument names) for our one workspace."""
        token = self.token

        def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token)

        return authorize

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; with wait, return once every started reply has been sent or given up."""
        self.listeners.shutdown(wait=wait)
        self.askers.shutdown(wait=wait)

    # ---- middleware ------------------------------------------------------------------------
    def take_once(self, request, body, next):
        """Let each event through once: Slack's redeliveries and repeated event_ids get a bare 200."""
        retry = request.headers.get("x-slack-retry-num")
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if retry:
            # A timeout retry can arrive while the first delivery is still being answered, possibly
            # in another worker; answering only first deliveries is what keeps one answer per question.
            reason = request.headers.get("x-slack-retry-reason", ["-"])[0]
            log.info("ignored redelivery %s (%s) of event %s", retry[0], reason, event_id)
            return BoltResponse(status=200, body="")
        if event_id and self.dedup.seen(f"event:{event_id}"):
            log.info("ignored duplicate event %s", event_id)
            return BoltResponse(status=200, body="")
        return next()

    # ---- answering ------------------------------------------------------------------------
    def conversation_id(self, *parts: str | None) -> str:
        """Per thread, DM or asker; an HMAC under the server secret, so ids can be neither guessed nor reused."""
        return self.flask_app.extensions["store"].channel_id("slack", *parts)

    def ask(self, question: str, cid: str, rid: str) -> dict:
        """The Block Kit reply to a question; an apology when the engine fails."""
        try:
            answer = self.flask_app.extensions["qa"].ask(question, conversation_id=cid, channel="slack")
        except Exception:
            log.exception("engine failed on Slack request %s", rid)
            return slack_notice(ERROR_TEXT)
        return slack_message(answer)

    def on_command(self, ack, respond, command):
        rid = command.get("trigger_id") or "-"
        question = (command.get("text") or "").strip()
        usage = f"{command.get('command') or '/policy'} 耕地保有量目标是多少？"
        early = precheck(self.flask_app.extensions["qa"], question, usage, self.max_chars)
        if early is not None:
            ack(response_type="ephemeral", **slack_notice(early))
            return
        cid = self.conversation_id(command.get("team_id"), command.get("channel_id"), command.get("user_id"))
        job = self.askers.submit(self.ask, question, cid, rid)
        if self.ack_budget > 0:
            try:
                ack(response_type=self.response_type, **job.result(timeout=self.ack_budget))
                return
            except FutureTimeout:
                pass
        # Slack drops a command not acknowledged within 3 s: acknowledge now, answer via response_url.
        ack(response_type="ephemeral", text=WORKING_TEXT)
        message = job.result()
        try:
            sent = respond(response_type=self.response_type, **message)
            if sent.status_code != 200:
                log.error("response_url refused the answer to %s: %s %s", rid, sent.status_code, sent.body)
        except (OSError, SlackClientError) as err:
            log.error("response_url unreachable for %s: %s", rid, err)

    def on_message(self, event, body, client):
        # Our own replies, other bots, edits, joins and deletions all carry bot_id or a subtype.
        if event.get("bot_id") or event.get("subtype") or event.get("edited"):
            return
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts:
            return
        # app_mention carries no channel_type; DM channel ids start with D
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        if event.get("type") == "message" and not is_dm:
            return
        # A mention inside a DM arrives twice, as app_mention and as message.im, under two event ids.
        if self.dedup.seen(f"message:{channel}:{ts}"):
            return
        rid = body.get("event_id") or "-"
        if not self.token:
            log.error("cannot answer event %s: SLACK_BOT_TOKEN is not set", rid)
            return
        thread_ts = event.get("thread_ts") if is_dm else event.get("thread_ts") or ts
        team = body.get("team_id") or event.get("team")
        cid = self.conversation_id(team, channel, thread_ts or "")
        question = slack_text(event.get("text") or "")
        early = precheck(self.flask_app.extensions["qa"], question, "@我 耕地保有量目标是多少？", self.max_chars)
        message = slack_notice(early) if early is not None else self.ask(question, cid, rid)
        self.post(client, rid, channel, thread_ts, message)

    def post(self, client: WebClient, rid: str, channel: str, thread_ts: str | None, message: dict) -> None:
        """chat.postMessage; failures are logged with the event id and Slack's request id, never raised."""
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
            return
        except SlackApiError as err:
            code = err.response.get("error")
            log.error("chat.postMessage failed for event %s: %s (status %s, slack request id %s)",
                      rid, code, err.response.status_code, _header(err.response.headers, "x-slack-req-id"))
            if code in UNDELIVERABLE or err.response.status_code == 429:
                return
        except (OSError, SlackClientError) as err:
            log.error("chat.postMessage unreachable for event %s: %r", rid, err)
            return
        # Slack refused this message (blocks, length) but the conversation exists: a plain apology may land.
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=ERROR_TEXT)
        except (OSError, SlackClientError) as err:
            log.error("error reply failed too for event %s: %r", rid, err)
