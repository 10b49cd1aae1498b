"""Run the Alembic migrations shipped inside the package (they work after a plain `pip install .`)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant shared by every host: PostgreSQL advisory locks are keyed by a bigint.
MIGRATION_LOCK = 0x706F6C6963795161  # "policyQa"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config that needs no alembic.ini: the migrations next to this file, the store's connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Upgrade to `revision`; several hosts starting at once against one PostgreSQL take turns."""
    with engine.connect() as conn:
        # SQLite: take the write lock before reading the version, so a second process waits and finds head
        conn.execution_options(store_write=True)
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()
        try:
            command.upgrade(alembic_config(connection=conn), revision)
            conn.commit()
        finally:
            if postgres:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                conn.commit()


def current(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def new_revision(engine: sa.Engine, message: str) -> None:
    """Write a migration for what schema.py changed, compared with a database at head (from a checkout)."""
    upgrade(engine)
    with engine.connect() as conn:
        command.revision(alembic_config(connection=conn), message=message, autogenerate=True)
