"""The store's tables (SQLAlchemy Core); the Alembic migrations must build exactly these."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),  # naive UTC on every backend
)

turns = sa.Table(
    "turns",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id", sa.String(64),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
    ),
    sa.Column("number", sa.Integer(), nullable=False),
    sa.Column("question", sa.Text(), nullable=False),
    sa.Column("resolved", sa.Text(), nullable=False),
    # resolved question folded (width, case, punctuation) so the unanswered queue groups variants
    sa.Column("normalized", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("answered", sa.Boolean(), nullable=False),
    sa.Column("clause_ids", sa.JSON(), nullable=False),
    # first cited clause: the answer's source, or for a refusal the nearest miss
    sa.Column("top_clause_id", sa.String(128), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("client_ip", sa.String(45), nullable=True),  # only when STORE_CLIENT_IP is on
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("conversation_id", "number"),
    sa.Index(None, "created_at"),
    sa.Index(None, "normalized"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("turn_id", sa.Integer(), sa.ForeignKey("turns.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rating", sa.String(4), nullable=False),
    sa.Column("comment", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("rating IN ('up', 'down')", name="rating"),
)

seen_events = sa.Table(
    "seen_events",
    metadata,
    sa.Column("event_id", sa.String(255), primary_key=True),
    sa.Column("seen_at", sa.DateTime(), nullable=False),
    sa.Index(None, "seen_at"),
)

# Secrets the deployment makes for itself when none is configured (the conversation-id key), shared by
# every worker and host of one database.
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)
