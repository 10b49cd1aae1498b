"""Every setting with its default and a one-line help; read from defaults, environment, then a mapping."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str) -> str:
    """corpus/ and prompts/ next to the working directory (Procfile), else next to the package."""
    here = Path.cwd() / name
    return str(here if here.is_dir() else ROOT / name)


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    plain_env: bool = False  # also read from the unprefixed name, as platforms document it (SLACK_BOT_TOKEN)


SETTINGS: tuple[Setting, ...] = (
    Setting("CORPUS_DIR", None, "folder with raw/, documents.toml, userdict.txt, synonyms.toml, stopwords.txt"),
    Setting("PROMPTS_DIR", None, "folder with the answer templates, one file per answer kind"),
    Setting("MAX_QUESTION_CHARS", 500, "longest question accepted by /api/ask (characters)"),
    Setting("MAX_BODY_BYTES", 16 * 1024, "largest request body accepted on /api/ (bytes)"),
    Setting("LOG_LEVEL", "INFO", "logging level of the service"),
    Setting("SLACK_SIGNING_SECRET", "", "Slack app signing secret; without it /slack/* answers 404",
            plain_env=True),
    Setting("SLACK_BOT_TOKEN", "", "Slack bot token (xoxb-) used to post answers to @mentions and DMs",
            plain_env=True),
    Setting("SLACK_API_BASE_URL", "https://slack.com/api/", "Slack Web API base URL (tests point it at a mock)"),
    Setting("SLACK_RESPONSE_TYPE", "ephemeral", "slash-command replies: ephemeral (asker only) or in_channel"),
    Setting("SLACK_ACK_BUDGET_MS", 2000,
            "a slash-command answer slower than this goes to response_url after a short ack (0: always)"),
    Setting("MATTERMOST_TOKEN", "", "token of the Mattermost slash command; without it /mattermost/* answers 404",
            plain_env=True),
    Setting("MATTERMOST_RESPONSE_TYPE", "ephemeral", "Mattermost replies: ephemeral or in_channel"),
    Setting("DATABASE_URL", "", "SQLAlchemy URL of the store (postgresql://… for several hosts); "
            "empty means the SQLite file SQLITE_PATH", plain_env=True),
    Setting("SQLITE_PATH", "var/policy-qa.sqlite3", "SQLite file of the store when DATABASE_URL is empty"),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 5000, "how long a SQLite writer waits for another process's lock (ms)"),
    Setting("RETENTION_DAYS", 180, "turns and feedback older than this are deleted at start and by "
            "`policy-qa purge`; 0 keeps them forever"),
    Setting("STORE_CLIENT_IP", 0, "1 stores the client IP address with each web turn; off by default"),
    Setting("ADMIN_TOKEN", "", "bearer token for /admin and /api/admin/; empty turns admin off", plain_env=True),
    Setting("CONVERSATION_SECRET", "", "key that signs web conversation ids and derives the bots' ids; empty: a "
            "random one made once and kept in the store"),
    Setting("INDEX_DIR", "var/index", "BM25 index artifact folder, built when missing or stale; empty: memory only"),
    Setting("RATE_LIMIT", "600 per minute", "questions per client on /api/ask and the bot routes (Flask-Limiter "
            "notation); a client is its address, or the Slack/Mattermost user of a verified bot request"),
    Setting("RATE_LIMIT_OTHER", "1200 per minute", "requests per client on every other route; /healthz, "
            "/readyz and static files are never limited"),
    Setting("REDIS_URL", "", "Redis for the rate-limit counters shared by all workers and hosts; empty: "
            "counted in memory, per worker process", plain_env=True),
    Setting("TRUSTED_PROXIES", 0, "how many proxies in front set X-Forwarded-For; the client address is "
            "read that many hops back (0: the peer address)"),
    Setting("BODY_READ_TIMEOUT", 10, "gunicorn drops a client whose request body pauses longer than this (seconds)"),
    Setting("RELOAD_CHECK_MS", 1000, "how often a process looks for a newly published index generation (ms)"),
    Setting("UPLOAD_MAX_BYTES", 20 * 1024 * 1024, "largest document accepted by POST /api/admin/documents (bytes)"),
    Setting("UPLOAD_EXTRACT_SECONDS", 60, "time limit for reading an added document (seconds)"),
)


def load_settings(overrides: dict | None = None) -> dict:
    """Defaults, then POLICY_QA_<NAME> (or a setting's plain name) environment variables, then the given mapping."""
    out: dict = {}
    for s in SETTINGS:
        value = s.default
        env = os.environ.get(f"POLICY_QA_{s.name}")
        if env is None and s.plain_env:
            env = os.environ.get(s.name)
        if env is not None:
            value = type(s.default)(env) if isinstance(s.default, int) else env
        out[s.name] = value
    out.update(overrides or {})
    out["CORPUS_DIR"] = out["CORPUS_DIR"] or _default_dir("corpus")
    out["PROMPTS_DIR"] = out["PROMPTS_DIR"] or _default_dir("prompts")
    return out
