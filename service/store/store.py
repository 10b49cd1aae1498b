"""Store: durable conversations, feedback, the unanswered queue and Slack event ids over SQLAlchemy Core."""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import re
import secrets
import sqlite3
import threading
import unicodedata
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..qa.conversation import Turn
from .schema import conversations, feedback, seen_events, server_secrets, turns

log = logging.getLogger(__name__)

# Set per request by the web adapter only when STORE_CLIENT_IP is on; the engine's
# add_turn(cid, turn) call has no room for it, and other channels have no address.
client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)

NOT_WORD_RE = re.compile(r"[\W_]+", re.UNICODE)
# Slack retries an event for minutes, not days: ids older than this are useless.
EVENT_ID_DAYS = 2
EVENT_ID_CHARS = 255  # the column's width; longer keys are stored as their hash
WRITE_ATTEMPTS = 5
SECRET_NAME = "conversation_ids"
READY_PROBE = "probe:readyz"  # the row /readyz rewrites to prove the store takes writes
READY_MIN_FREE_BYTES = 1 << 20  # SQLite: less free space than this beside the file is not ready
ID_NONCE_BYTES = 12
ID_MAC_CHARS = 24
HEX_RE = re.compile(r"[0-9a-f]+")
MIGRATING = threading.Lock()  # alembic keeps its context in module globals: one migration at a time per process


class UnknownConversation(LookupError):
    pass


class UnknownTurn(LookupError):
    pass


def normalize_question(text: str) -> str:
    """Fold width, case and punctuation so '耕地保有量是多少？' and '耕地保有量是多少' group together."""
    return NOT_WORD_RE.sub("", unicodedata.normalize("NFKC", text)).lower()


def database_url(url: str, sqlite_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL as Heroku-style hosts give it, else the SQLite file."""
    if not url:
        return f"sqlite:///{Path(sqlite_path).expanduser()}"
    # postgres:// is what most hosts hand out; SQLAlchemy wants a dialect+driver name
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a file, None when it does not exist: a replaced file has a new identity."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def read_identity(marker: Path) -> tuple[int, int] | None:
    try:
        device, inode = marker.read_text().split()
        return int(device), int(inode)
    except (FileNotFoundError, ValueError):
        return None


def write_identity(marker: Path, identity: tuple[int, int]) -> None:
    """Replace the marker atomically: a reader sees the old identity or the new one."""
    temporary = marker.with_name(f"{marker.name}.{os.getpid()}")
    temporary.write_text(f"{identity[0]} {identity[1]}\n")
    os.replace(temporary, marker)


@contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock shared by every process on this host, on the folder itself (no lock file)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class StoreUnavailable(RuntimeError):
    """The store cannot be opened, or cannot vouch for a write (its file changed under it): answer 503."""


class Store:
    """Conversations, feedback and Slack event ids in one SQL database: SQLite or PostgreSQL, same code.

    Every use first checks that the SQLite file is still the one the connections hold (device and inode):
    a file deleted or replaced is reopened (a deleted one recreated empty and migrated, loudly), and a
    write is acknowledged only if the file was not swapped while it ran. After a database error the
    pooled connections are dropped, so a fault that was fixed (permissions, disk space, a restarted
    PostgreSQL) heals on the next request without a restart.
    """

    def __init__(self, url: str, busy_timeout_ms: int = 5000, secret: str = ""):
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self._engine: sa.Engine | None = None
        self._pid = 0
        self._lock = threading.RLock()
        self._migrated = False
        self._configured_secret = secret
        self._secret: bytes | None = None
        database = sa.make_url(url).database if url.startswith("sqlite") else None
        self.sqlite_path = Path(database).absolute() if database and database != ":memory:" else None
        self._identity: tuple[int, int] | None = None  # of the SQLite file the engine's connections open

    # ---- connections ----------------------------------------------------------------------
    @property
    def engine(self) -> sa.Engine:
        """The engine of this process, on the SQLite file now at the path (reopened if it was swapped)."""
        pid = os.getpid()
        if self._engine is None or self._pid != pid or self._swapped():
            with self._lock:
                if self._engine is not None and self._pid != pid:
                    # the parent's pooled sockets: forget them without closing, they are still the parent's
                    self._engine.dispose(close=False)
                    self._engine = None
                if self._engine is not None and self._swapped():
                    # connections in use are closed when they are returned; their writes are refused
                    self._engine.dispose()
                    self._engine = None
                    # the file at the path may be new yet carry the old inode number (ext4 reuses a freed
                    # inode at once), so _adopt_file cannot tell: check its tables again (cheap when current)
                    self._migrated = False
                if self._engine is None:
                    if self.sqlite_path is not None:
                        try:
                            self._adopt_file()
                        except (OSError, sqlite3.Error) as err:  # a read-only or full folder, say
                            raise StoreUnavailable(f"cannot open {self.sqlite_path}: {err}") from err
                    self._engine = self._create_engine()
                    self._pid = pid
        return self._engine

    def _swapped(self) -> bool:
        return self.sqlite_path is not None and file_identity(self.sqlite_path) != self._identity

    def _adopt_file(self) -> None:
        """Before opening the SQLite file: create it if missing, and drop the WAL of a file it replaced.

        Connections open the file with mode=rw, so only this step, under a lock every process on the
        host shares, ever creates it. The identity the processes last agreed on is kept beside the
        file: a different file at the path (deleted and recreated, or a backup moved over it) means
        the -wal and -shm there belong to the old one, and SQLite would read them as the new one's.
        """
        path = self.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        marker = Path(f"{path}.identity")
        with directory_lock(path.parent):
            agreed = read_identity(marker)
            current = file_identity(path)
            if current is None or (agreed is not None and current != agreed):
                if current is None and (agreed is not None or self._identity is not None):
                    log.error("SQLITE FILE DELETED: %s is gone while the service runs; recreating an EMPTY store. "
                              "Every turn stored before is lost unless restored from a backup.", path)
                elif current is not None:
                    log.error("SQLite file %s was replaced; opening the new file", path)
                for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                    stale.unlink(missing_ok=True)
                if current is None:
                    sqlite3.connect(path).close()  # an empty database file
                    current = file_identity(path)
                self._migrated = False
            if current != agreed:
                write_identity(marker, current)
        if self._identity is not None and current != self._identity:
            self._migrated = False  # a file another process adopted: it may lack this version's tables
        self._identity = current

    def _create_engine(self) -> sa.Engine:
        url = sa.make_url(self.url)
        if url.get_backend_name() != "sqlite":
            connect_args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
            return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        if self.sqlite_path is None:
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        else:
            # mode=rw: a connection never creates the file (an empty one, without tables, beside a stale WAL)
            uri = f"file:{urllib.parse.quote(str(self.sqlite_path))}?mode=rw"
            engine = sa.create_engine(
                "sqlite://", poolclass=sa.pool.QueuePool,
                creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            )
        timeout = int(self.busy_timeout_ms)

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):
            # pysqlite's own BEGIN handling is off so that writers can ask for BEGIN IMMEDIATE below
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {timeout}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            # A deferred transaction that reads then writes fails at once with SQLITE_BUSY when
            # another process wrote in between; taking the write lock first makes it wait instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("store_write") else "BEGIN")

        return engine

    @contextmanager
    def _connection(self, write: bool = False) -> Iterator[sa.Connection]:
        """A connection on a migrated database; for a write, one transaction that is known to have landed."""
        try:
            engine = self.engine
            identity = self._identity
            if not self._migrated:
                self.migrate()
            with engine.connect() as conn:
                if write:
                    conn.execution_options(store_write=True)
                    with conn.begin():
                        yield conn
                else:
                    yield conn
        except sa.exc.DBAPIError as err:
            if isinstance(err, sa.exc.OperationalError) or err.connection_invalidated:
                # a connection opened read-only, on a full disk or to a server that went away is not
                # reused: the next request opens a fresh one and sees whether the fault was fixed
                self._discard()
            raise
        if write and self.sqlite_path is not None and file_identity(self.sqlite_path) != identity:
            raise StoreUnavailable(f"{self.sqlite_path} was deleted or replaced during a write")

    def _writing(self) -> AbstractContextManager[sa.Connection]:
        return self._connection(write=True)

    def _discard(self) -> None:
        with self._lock:
            if self._engine is not None and self._pid == os.getpid():
                self._engine.dispose()
                self._engine = None

    def dispose(self) -> None:
        """Close pooled connections (before gunicorn forks, and when a test is done)."""
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
        self._engine = None

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent; serialized across hosts on PostgreSQL)."""
        # alembic announces each of its plugins at INFO when first imported; the migrations it runs stay visible
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        from .migrate import upgrade

        with MIGRATING:
            upgrade(self.engine)
        self._migrated = True
        if self._secret is not None and not self._configured_secret:
            # a recreated or restored database keeps the key this process already signs with, so the
            # ids it gave out stay valid and every worker agrees on one key
            self._keep_secret(self._secret.decode())

    def ready(self) -> None:
        """Raise unless the store answers and accepts a write (the readiness probe)."""
        if self.sqlite_path is not None:
            # On a nearly full disk a small write can still land in WAL space already allocated while
            # turns fail: readiness must not flap with it, so it also wants room for what comes next.
            st = os.statvfs(self.sqlite_path.parent)
            if st.f_bavail * st.f_frsize < READY_MIN_FREE_BYTES:
                raise StoreUnavailable(f"only {st.f_bavail * st.f_frsize} bytes free beside {self.sqlite_path}")
        try:
            with self._writing() as conn:
                conn.execute(sa.delete(seen_events).where(seen_events.c.event_id == READY_PROBE))
                conn.execute(sa.insert(seen_events).values(event_id=READY_PROBE, seen_at=utcnow()))
        except IntegrityError:
            pass  # PostgreSQL: a simultaneous probe wrote the row first, which proves writes work just as well

    # ---- conversation ids --------------------------------------------------------------------
    def _key(self) -> bytes:
        """The server secret conversation ids are signed with: the setting, else one kept in the store."""
        if self._secret is None:
            configured = self._configured_secret
            self._secret = configured.encode() if configured else self._stored_secret()
        return self._secret

    def _stored_secret(self) -> bytes:
        """A random per-deployment secret, made by whichever process asks first and shared by all."""
        query = sa.select(server_secrets.c.value).where(server_secrets.c.name == SECRET_NAME)
        with self._connection() as conn:
            value = conn.execute(query).scalar()
        if value is None:
            self._keep_secret(secrets.token_hex(32))
            with self._connection() as conn:
                value = conn.execute(query).scalar_one()
        return value.encode()

    def _keep_secret(self, value: str) -> None:
        """Store the key unless one is stored already (then that one wins)."""
        try:
            with self._writing() as conn:
                if conn.execute(sa.select(server_secrets.c.name).where(
                        server_secrets.c.name == SECRET_NAME)).first() is None:
                    conn.execute(sa.insert(server_secrets).values(name=SECRET_NAME, value=value, created_at=utcnow()))
        except IntegrityError:
            pass  # another worker stored one at the same moment

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    def new_id(self) -> str:
        """An id for a conversation the web API opens: a random nonce and its signature."""
        nonce = secrets.token_hex(ID_NONCE_BYTES)
        return nonce + self._mac("web", nonce)[:ID_MAC_CHARS]

    def issued(self, conversation_id: str) -> bool:
        """True for an id new_id made here; Slack's and Mattermost's ids, and made-up ones, are not."""
        nonce, mac = conversation_id[:-ID_MAC_CHARS], conversation_id[-ID_MAC_CHARS:]
        if len(nonce) != 2 * ID_NONCE_BYTES or not HEX_RE.fullmatch(conversation_id):
            return False
        return hmac.compare_digest(mac, self._mac("web", nonce)[:ID_MAC_CHARS])

    def channel_id(self, channel: str, *parts: str | None) -> str:
        """A bot conversation's id, stable per thread, DM or asker, and unguessable without the secret."""
        return f"{channel}-" + self._mac(channel, *(p or "" for p in parts))[:40]

    def last_turn(self, conversation_id: str) -> Turn | None:
        query = (
            sa.select(turns).where(turns.c.conversation_id == conversation_id)
            .order_by(turns.c.number.desc()).limit(1)
        )
        with self._connection() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Turn(
            question=row.question, resolved=row.resolved, kind=row.kind, answered=row.answered,
            clause_ids=tuple(row.clause_ids), channel=row.channel, latency_ms=row.latency_ms,
            created=row.created_at.replace(tzinfo=timezone.utc).timestamp(),
        )

    def add_turn(self, conversation_id: str, turn: Turn) -> int:
        """Append a turn; its number is one more than the conversation's last, whichever worker wrote that."""
        created = datetime.fromtimestamp(turn.created, timezone.utc).replace(tzinfo=None)
        values = {
            "conversation_id": conversation_id, "question": turn.question, "resolved": turn.resolved,
            "normalized": normalize_question(turn.resolved or turn.question), "kind": turn.kind,
            "answered": turn.answered, "clause_ids": list(turn.clause_ids),
            "top_clause_id": turn.clause_ids[0] if turn.clause_ids else None, "channel": turn.channel,
            "latency_ms": round(turn.latency_ms, 3), "client_ip": client_ip.get(), "created_at": created,
        }
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writing() as conn:
                    # the row lock queues writers of one conversation on PostgreSQL (SQLite's
                    # BEGIN IMMEDIATE already has), so max(number) + 1 cannot be taken twice
                    known = conn.execute(
                        sa.select(conversations.c.id).where(conversations.c.id == conversation_id).with_for_update()
                    ).first()
                    if known is None:
                        conn.execute(sa.insert(conversations).values(
                            id=conversation_id, channel=turn.channel, created_at=created))
                    last = conn.execute(
                        sa.select(sa.func.max(turns.c.number)).where(turns.c.conversation_id == conversation_id)
                    ).scalar()
                    number = (last or 0) + 1
                    conn.execute(sa.insert(turns).values(number=number, **values))
                return number
            except IntegrityError:
                # PostgreSQL: another worker created the same new conversation first
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # ---- feedback ------------------------------------------------------------------------------
    def set_feedback(self, conversation_id: str, number: int, rating: str, comment: str | None = None) -> bool:
        """Record a vote on a turn; a second vote replaces the first. True when it replaced one."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be up or down, not {rating!r}")
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writing() as conn:
                    turn_id = conn.execute(
                        sa.select(turns.c.id).where(
                            turns.c.conversation_id == conversation_id, turns.c.number == number)
                    ).scalar()
                    if turn_id is None:
                        known = conn.execute(
                            sa.select(conversations.c.id).where(conversations.c.id == conversation_id)
                        ).first()
                        raise (UnknownTurn if known else UnknownConversation)(conversation_id)
                    vote = {"rating": rating, "comment": comment or None, "created_at": utcnow()}
                    replaced = conn.execute(
                        sa.update(feedback).where(feedback.c.turn_id == turn_id).values(**vote)
                    ).rowcount
                    if not replaced:
                        conn.execute(sa.insert(feedback).values(turn_id=turn_id, **vote))
                return bool(replaced)
            except IntegrityError:
                # PostgreSQL: a simultaneous first vote on the same turn won; update it instead
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # ---- Slack event ids ---------------------------------------------------------------------
    def mark_event_seen(self, event_id: str) -> bool:
        """True the first time any process sees this event id; the primary key makes it atomic."""
        if len(event_id) > EVENT_ID_CHARS:
            event_id = "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()
        try:
            with self._writing() as conn:
                conn.execute(sa.insert(seen_events).values(event_id=event_id, seen_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def seen(self, key: str) -> bool:
        """The Slack adapter's Dedup call: mark key as taken, True when some worker already took it."""
        return not self.mark_event_seen(key)

    # ---- reading for staff -------------------------------------------------------------------------
    def count_turns(self) -> int:
        with self._connection() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(turns)).scalar_one()

    def conversation(self, conversation_id: str) -> list[dict]:
        """Every turn of a conversation with its vote, oldest first."""
        query = (
            sa.select(turns, feedback.c.rating, feedback.c.comment)
            .select_from(turns.outerjoin(feedback, feedback.c.turn_id == turns.c.id))
            .where(turns.c.conversation_id == conversation_id).order_by(turns.c.number)
        )
        with self._connection() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def stats(self, days: int = 30, queue_limit: int = 50, now: datetime | None = None) -> dict:
        """Questions per day, answer rate, feedback counts and the unanswered queue since `days` ago."""
        since = (now or utcnow()) - timedelta(days=days)
        recent = turns.c.created_at >= since
        day = sa.func.date(turns.c.created_at)
        answered = sa.func.sum(sa.case((turns.c.answered, 1), else_=0))
        refused = sa.func.sum(sa.case((turns.c.kind == "refusal", 1), else_=0))
        with self._connection() as conn:
            totals = conn.execute(
                sa.select(sa.func.count(), answered, refused, sa.func.count(sa.distinct(turns.c.conversation_id)),
                          sa.func.avg(turns.c.latency_ms), sa.func.max(turns.c.latency_ms)).where(recent)
            ).one()
            per_day = conn.execute(
                sa.select(day, sa.func.count(), answered).where(recent).group_by(day).order_by(day)
            ).all()
            channels = conn.execute(
                sa.select(turns.c.channel, sa.func.count()).where(recent)
                .group_by(turns.c.channel).order_by(turns.c.channel)
            ).all()
            votes = conn.execute(
                sa.select(feedback.c.rating, sa.func.count(), sa.func.count(feedback.c.comment))
                .select_from(feedback.join(turns, feedback.c.turn_id == turns.c.id))
                .where(recent).group_by(feedback.c.rating)
            ).all()
            comments = conn.execute(
                sa.select(turns.c.conversation_id, turns.c.number, turns.c.resolved, feedback.c.rating,
                          feedback.c.comment, feedback.c.created_at)
                .select_from(feedback.join(turns, feedback.c.turn_id == turns.c.id))
                .where(recent, feedback.c.comment.is_not(None))
                .order_by(feedback.c.created_at.desc(), turns.c.id.desc()).limit(20)
            ).all()
        total, n_answered, n_refused = totals[0], totals[1] or 0, totals[2] or 0
        judged = n_answered + n_refused  # greetings and help are neither
        by_rating = {rating: (count, with_comment) for rating, count, with_comment in votes}
        return {
            "since": since.date().isoformat(),
            "days": days,
            "questions": total,
            "conversations": totals[3],
            "answered": n_answered,
            "refused": n_refused,
            "answer_rate": round(n_answered / judged, 4) if judged else None,
            "latency_ms": {"avg": round(totals[4] or 0.0, 1), "max": round(totals[5] or 0.0, 1)},
            "per_day": [{"date": _day(d), "questions": n, "answered": a or 0} for d, n, a in per_day],
            "channels": {channel: n for channel, n in channels},
            "feedback": {
                "up": by_rating.get("up", (0, 0))[0],
                "down": by_rating.get("down", (0, 0))[0],
                "comments": sum(c for _, c in by_rating.values()),
            },
            "recent_comments": [
                {"conversation_id": cid, "turn": n, "question": q, "rating": r, "comment": c,
                 "at": at.isoformat(timespec="seconds") + "Z"}
                for cid, n, q, r, c, at in comments
            ],
            "unanswered": self.unanswered(since, queue_limit),
        }

    def unanswered(self, since: datetime, limit: int = 50) -> list[dict]:
        """Refusals and down-voted answers grouped by normalized question and nearest clause, newest first."""
        down = feedback.c.rating == "down"
        last = sa.func.max(turns.c.created_at).label("last_asked")
        query = (
            sa.select(
                turns.c.normalized, turns.c.top_clause_id, sa.func.max(turns.c.resolved), sa.func.count(),
                sa.func.sum(sa.case((turns.c.kind == "refusal", 1), else_=0)),
                sa.func.sum(sa.case((down, 1), else_=0)), last,
            )
            .select_from(turns.outerjoin(feedback, feedback.c.turn_id == turns.c.id))
            .where(turns.c.created_at >= since, sa.or_(turns.c.kind == "refusal", down))
            .group_by(turns.c.normalized, turns.c.top_clause_id)
            .order_by(last.desc(), turns.c.normalized).limit(limit)
        )
        with self._connection() as conn:
            rows = conn.execute(query).all()
        return [
            {"question": question, "normalized": normalized, "clause_id": clause_id, "count": count,
             "refusals": refusals or 0, "down_votes": downs or 0,
             "last_asked": last_asked.isoformat(timespec="seconds") + "Z"}
            for normalized, clause_id, question, count, refusals, downs, last_asked in rows
        ]

    def export_turns(self, days: int = 30) -> Iterator[dict]:
        """Every turn since `days` ago with its vote, oldest first, for the CSV export."""
        since = utcnow() - timedelta(days=days)
        query = (
            sa.select(turns.c.created_at, turns.c.conversation_id, turns.c.number, turns.c.channel,
                      turns.c.question, turns.c.resolved, turns.c.kind, turns.c.answered, turns.c.clause_ids,
                      turns.c.latency_ms, feedback.c.rating, feedback.c.comment)
            .select_from(turns.outerjoin(feedback, feedback.c.turn_id == turns.c.id))
            .where(turns.c.created_at >= since).order_by(turns.c.created_at, turns.c.id)
        )
        with self._connection() as conn:
            for row in conn.execute(query):
                yield dict(row._mapping)

    # ---- retention ------------------------------------------------------------------------------------
    def purge(self, days: int, now: datetime | None = None) -> dict:
        """Delete turns (with their votes) older than `days` (0: keep them), emptied conversations, old event ids."""
        now = now or utcnow()
        deleted = {"turns": 0, "feedback": 0, "conversations": 0}
        with self._writing() as conn:
            if days > 0:
                cutoff = now - timedelta(days=days)
                old = sa.select(turns.c.id).where(turns.c.created_at < cutoff)
                deleted["feedback"] = conn.execute(sa.delete(feedback).where(feedback.c.turn_id.in_(old))).rowcount
                deleted["turns"] = conn.execute(sa.delete(turns).where(turns.c.created_at < cutoff)).rowcount
                empty = ~sa.exists().where(turns.c.conversation_id == conversations.c.id)
                deleted["conversations"] = conn.execute(
                    sa.delete(conversations).where(conversations.c.created_at < cutoff, empty)
                ).rowcount
            deleted["events"] = conn.execute(
                sa.delete(seen_events).where(seen_events.c.seen_at < now - timedelta(days=EVENT_ID_DAYS))
            ).rowcount
        return deleted


def _day(value: date | str) -> str:
    """SQLite's date() gives a string, PostgreSQL's a date."""
    return value if isinstance(value, str) else value.isoformat()
