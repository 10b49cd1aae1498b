"""Alembic environment: the store passes its own connection; `alembic` on the command line builds one."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from service.store.schema import metadata

config = context.config


def run(connection: sa.Connection) -> None:
    # batch mode lets later migrations ALTER tables on SQLite too; compare_type keeps autogenerate honest
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from service.config import load_settings
    from service.store import open_store

    store = open_store(load_settings())
    with store.engine.connect() as conn:
        run(conn)
        conn.commit()
    store.dispose()
