"""Real databases for the store tests: a SQLite file per test, one PostgreSQL server per run on loopback."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from service.store import Store
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def unavailable(reason: str):
    """Skip on a developer machine without the server; in CI (CI=true) that is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: run .ci/store-deps.sh)")
    pytest.skip(reason)


def postgres_bin() -> Path | None:
    """Debian installs the server outside PATH, under /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    """initdb into a temp dir and run postgres on a free loopback port, as a non-root user."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="policy-qa-pg-"))
        self.user: str | None = None
        if os.geteuid() == 0:
            # postgres refuses to run as root
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root and there is no 'postgres' user to run the server")
            self.user = "postgres"
            os.chown(self.datadir, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.datadir / "data"), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "--no-locale"],
            user=self.user, check=True, capture_output=True, cwd=self.datadir,
        )
        self.launch()

    def launch(self) -> None:
        """Run the server on the initialized data folder (again, after halt()) and wait until it answers."""
        if not hasattr(self, "log"):
            self.log = open(self.datadir / "server.log", "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.datadir / "data"), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.datadir), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"],
            user=self.user, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.datadir,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("postgres exited: " + (self.datadir / "server.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                self._admin("SELECT 1")
                return
            except Exception:  # not up yet
                time.sleep(0.1)
        raise RuntimeError("postgres did not start: " + (self.datadir / "server.log").read_text())

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True, connect_timeout=2) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """A fresh empty database; its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def halt(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected), keeping its data for launch()."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT: fast shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self) -> None:
        self.halt()
        if hasattr(self, "log"):
            self.log.close()
        shutil.rmtree(self.datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    bindir = postgres_bin()
    if bindir is None:
        unavailable("PostgreSQL server binaries not found (Debian package 'postgresql')")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def database_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    """An empty database of the given backend."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'store.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_url(backend, request, tmp_path) -> str:
    return database_url(backend, request, tmp_path)


@pytest.fixture
def store(empty_url):
    """A migrated store on a fresh database."""
    s = Store(empty_url)
    s.migrate()
    yield s
    s.dispose()
