"""Migrations: upgrade from empty on both backends, and the models agree with what they build."""
from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from service.qa.conversation import Turn
from service.store import Store
from service.store.migrate import alembic_config, current
from service.store.schema import metadata

from .conftest import ROOT


def test_upgrade_from_empty_reaches_head_and_is_idempotent(empty_url):
    store = Store(empty_url)
    try:
        assert current(store.engine) is None
        store.migrate()
        store.migrate()  # every app start runs it again
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current(store.engine) == head
        tables = set(sa.inspect(store.engine).get_table_names())
        assert {"conversations", "turns", "feedback", "seen_events", "server_secrets", "alembic_version"} == tables
    finally:
        store.dispose()


def test_models_and_migrations_agree(empty_url):
    store = Store(empty_url)
    try:
        store.migrate()
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        store.dispose()


def test_downgrade_to_empty_and_back(empty_url):
    store = Store(empty_url)
    try:
        store.migrate()
        with store.engine.connect() as conn:
            command.downgrade(alembic_config(connection=conn), "base")
            conn.commit()
        assert set(sa.inspect(store.engine).get_table_names()) <= {"alembic_version"}
        store.migrate()
        assert store.add_turn("c1", Turn("问", "问", "refusal", False)) == 1
    finally:
        store.dispose()


def test_hosts_starting_at_once_migrate_once(empty_url):
    # separate processes, as separate hosts: alembic's context is process-global
    code = "import sys; from service.store import Store; s = Store(sys.argv[1]); s.migrate(); s.dispose()"
    starts = [subprocess.Popen([sys.executable, "-c", code, empty_url], cwd=ROOT, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]
    for process in starts:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    store = Store(empty_url)
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current(store.engine) == head
        assert store.add_turn("c1", Turn("问", "问", "refusal", False)) == 1
    finally:
        store.dispose()
