"""Alembic environment: the store always passes its own connection (there is no alembic.ini to read)."""
from __future__ import annotations

from alembic import context

from service.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through the store: `policy-qa migrate` (or Store.migrate())")
# batch mode lets later migrations ALTER tables on SQLite too; compare_type keeps autogenerate honest
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
