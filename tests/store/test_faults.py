"""Storage faults under load, against real gunicorn workers: nothing acknowledged is lost, and the service heals.

Each test runs the Procfile's server (gunicorn --preload, 2 workers) while two clients ask without pause,
breaks the store, repairs it, and then checks: every answer was 200 or a JSON 503, /readyz said so while
the store was broken, the service came back by itself (how fast is printed), and every turn it
acknowledged is in the store.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.servers import Service

from .conftest import PostgresServer, postgres_bin, unavailable

QUESTIONS = ["耕地保有量目标是多少？", "那永久基本农田呢？", "哪几类数码产品有购新补贴？", "今天天气怎么样？"]
# Two clients without pause ask ~400 times a second, past the 600 a minute each worker allows one address:
# a 429 would fail check_replies for a reason that is not the store's. Limits have their own tests.
UNLIMITED = {"POLICY_QA_RATE_LIMIT": "1000000 per minute", "POLICY_QA_DATABASE_URL": ""}
# Root writes a read-only file anyway; without CAP_DAC_OVERRIDE it is refused, as a service user would be.
NOT_ROOT = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def without_override() -> list[str]:
    """The command prefix that takes root's power to write read-only files away (none needed for other users)."""
    if NOT_ROOT and subprocess.run([*NOT_ROOT, "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root and setpriv (util-linux) cannot drop CAP_DAC_OVERRIDE here")
    return NOT_ROOT


class Load:
    """Two clients asking without pause, each continuing its conversation; every reply kept with its start time."""

    def __init__(self, service: Service, clients: int = 2):
        self.service = service
        self.records: list[tuple[float, int, str, dict | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(k,)) for k in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self, k: int) -> None:
        cid, i = None, k
        while not self._stop.is_set():
            body = {"question": QUESTIONS[i % len(QUESTIONS)], **({"conversation_id": cid} if cid else {})}
            started = time.monotonic()
            status, kind, reply = self.service.call("POST", "/api/ask", body)
            self.records.append((started, status, kind, reply))
            if status == 200:
                cid = reply["conversation_id"]
            i += 1

    def wait_for(self, status: int, after: float, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not any(s == status and t >= after for t, s, _, _ in self.records):
            assert time.monotonic() < deadline, f"no {status} after the fault: {self.summary()}"
            time.sleep(0.05)

    def acknowledged(self, since: float = 0.0) -> set[tuple[str, int]]:
        return {(r["conversation_id"], r["turn"]) for t, s, _, r in self.records if s == 200 and t >= since}

    def summary(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _, status, _, _ in self.records:
            counts[status] = counts.get(status, 0) + 1
        return counts

    def check_replies(self) -> None:
        """Only answers and JSON 503s: never a 500, never an HTML page."""
        for _, status, kind, reply in self.records:
            assert status in (200, 503), (status, reply)
            assert kind.startswith("application/json"), kind
            if status == 503:
                assert reply["error"]["code"] == "unavailable"


def stored_turns(url: str) -> set[tuple[str, int]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {(c, n) for c, n in conn.execute(sa.text("SELECT conversation_id, number FROM turns"))}
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_service(tmp_path):
    """A service on a SQLite file of its own; yields (service, path)."""
    path = tmp_path / "store" / "policy-qa.sqlite3"
    service = Service(tmp_path, {"POLICY_QA_SQLITE_PATH": str(path), **UNLIMITED})
    yield service, path
    service.stop()
    assert "Traceback" not in service.log(), service.log()


def swap_under_load(service: Service, path: Path, swap) -> tuple[Load, float, set[tuple[str, int]]]:
    """Swap the file while two clients ask; check the replies and that every turn acknowledged after it is stored."""
    with Load(service) as load:
        time.sleep(1.0)
        swap()
        fault = time.monotonic()
        load.wait_for(200, after=fault)
        time.sleep(1.0)
    load.check_replies()
    # not identity(path) != old: a deleted file's inode number is free again once the workers let go of it,
    # and ext4 hands it to the recreated file; the log lines the callers check prove the swap was seen
    after = load.acknowledged(since=fault)
    assert after and after <= stored_turns(f"sqlite:///{path}")
    assert service.ready()
    return load, fault, after


def test_a_deleted_sqlite_file_is_recreated_and_nothing_acknowledged_is_lost(sqlite_service):
    service, path = sqlite_service
    load, fault, after = swap_under_load(service, path, lambda: os.unlink(path))  # as `rm`: -wal and -shm stay
    assert "SQLITE FILE DELETED" in service.log()
    first = min(t for t, s, _, _ in load.records if s == 200 and t >= fault) - fault
    print(f"\nSQLite deleted: {load.summary()}; first answer {first * 1000:.0f} ms after the unlink; "
          f"{len(after)} turns acknowledged after it, all in the recreated file")


def test_a_replaced_sqlite_file_is_reopened_and_nothing_acknowledged_is_lost(sqlite_service, tmp_path):
    service, path = sqlite_service
    copy = tmp_path / "restored.sqlite3"

    def restore_a_backup() -> None:
        live, target = sqlite3.connect(path), sqlite3.connect(copy)
        live.backup(target)
        live.close()
        target.close()
        os.replace(copy, path)

    load, _, after = swap_under_load(service, path, restore_a_backup)
    assert "was replaced" in service.log()
    print(f"\nSQLite replaced: {load.summary()}; {len(after)} turns acknowledged after the swap, all in the new file")


def break_and_heal(service: Service, url: str, breaks, heals) -> tuple[Load, float]:
    """Under load: breaks() until a 503 and a failing /readyz, then heals(); the replies, seconds to ready."""
    with Load(service) as load:
        time.sleep(0.5)
        breaks()
        load.wait_for(503, after=time.monotonic())
        assert not service.ready()
        time.sleep(0.5)
        heals()
        recovered = service.wait_ready()
        load.wait_for(200, after=time.monotonic())
        time.sleep(0.5)
    load.check_replies()
    assert load.acknowledged() <= stored_turns(url)
    return load, recovered


def test_a_read_only_sqlite_file_is_503_and_heals_when_writable_again(tmp_path):
    path = tmp_path / "store" / "policy-qa.sqlite3"
    service = Service(tmp_path, {"POLICY_QA_SQLITE_PATH": str(path), **UNLIMITED},
                      without_override())

    def make_read_only() -> None:
        path.chmod(0o444)
        # the workers' open connections keep writing; new ones (after a reload) open the file read-only
        exited = service.log().count("Worker exiting")
        service.process.send_signal(signal.SIGHUP)
        # until both old workers have exited, one still draining may take a /readyz on its writable
        # connection: readiness would flap between 503 and 200 and "not ready" would be a coin toss
        deadline = time.monotonic() + 30
        while service.log().count("Worker exiting") < exited + 2:
            assert time.monotonic() < deadline, "the old workers did not exit after SIGHUP:\n" + service.log()
            time.sleep(0.1)

    try:
        load, recovered = break_and_heal(service, f"sqlite:///{path}", make_read_only, lambda: path.chmod(0o644))
        print(f"\nSQLite read-only: {load.summary()}; ready again {recovered * 1000:.0f} ms after chmod 644")
    finally:
        service.stop()
    assert "Traceback" not in service.log(), service.log()


def test_a_full_disk_is_503_and_heals_when_space_is_freed(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    # Big enough that what the filler frees always exceeds the store's readiness margin: the WAL is only
    # checkpointed at 1000 pages (4 MB), and on a 4 MB disk it could leave the filler less than the 1 MB
    # /readyz asks for, so the service rightly never became ready again.
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    service = None
    try:
        path = mount / "policy-qa.sqlite3"
        service = Service(tmp_path, {"POLICY_QA_SQLITE_PATH": str(path), **UNLIMITED})
        filler = mount / "filler"

        def fill() -> None:
            # unbuffered: a buffered file that met ENOSPC raises it again from close() as it flushes the rest
            with open(filler, "wb", buffering=0) as out:
                try:
                    while True:
                        out.write(b"\0" * 65536)
                except OSError:
                    pass  # ENOSPC: the disk is full

        load, recovered = break_and_heal(service, f"sqlite:///{path}", fill, filler.unlink)
        print(f"\nDisk full: {load.summary()}; ready again {recovered * 1000:.0f} ms after space was freed")
    finally:
        if service is not None:
            service.stop()
        subprocess.run(["umount", "-l", str(mount)], check=False)
    assert "Traceback" not in service.log(), service.log()


def test_postgresql_stopped_is_503_and_heals_when_it_is_back(tmp_path):
    bindir = postgres_bin()
    if bindir is None:
        unavailable("PostgreSQL server binaries not found (Debian package 'postgresql')")
    server = PostgresServer(bindir)
    service = None
    try:
        server.start()
        url = server.new_database()
        service = Service(tmp_path, {**UNLIMITED, "POLICY_QA_DATABASE_URL": url})
        load, recovered = break_and_heal(service, url, server.halt, server.launch)
        print(f"\nPostgreSQL stopped: {load.summary()}; ready again {recovered * 1000:.0f} ms after it accepted "
              "connections again")
    finally:
        if service is not None:
            service.stop()
        server.stop()
    assert "Traceback" not in service.log(), service.log()
