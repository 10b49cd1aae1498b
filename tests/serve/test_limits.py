"""Rate limits: JSON 429s per client in the app, then real gunicorn workers sharing a real redis-server."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_client

from service import create_app
from tests.conftest import CORPUS, PROMPTS

from .servers import Gunicorn, Redis, ask_body, http, paced_questions

LIMIT = 100  # per minute in the flood tests: a few hundred requests show it
FLOOD_PER_MINUTE = 10_000
FLOOD_SECONDS = 10


@pytest.fixture
def limited_app(engine, tmp_path):
    def make(**settings):
        config = {"CORPUS_DIR": str(CORPUS), "PROMPTS_DIR": str(PROMPTS),
                  "SQLITE_PATH": str(tmp_path / "store.sqlite3"), **settings}
        return create_app(config, engine=engine)
    return make


def ask(client, address: str = "127.0.0.1", headers: dict | None = None):
    return client.post("/api/ask", json={"question": "耕地保有量目标是多少？"}, headers=headers or {},
                       environ_base={"REMOTE_ADDR": address})


def test_a_client_over_its_limit_gets_a_json_429_with_retry_after(limited_app):
    client = limited_app(RATE_LIMIT="3 per minute").test_client()
    replies = [ask(client) for _ in range(5)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429, 429]
    assert replies[0].headers["X-RateLimit-Limit"] == "3" and "Retry-After" not in replies[0].headers
    refused = replies[-1]
    assert refused.content_type == "application/json"
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert not any(name.startswith("X-Limiter") for name in refused.headers.keys())
    assert ask(client, "10.0.0.2").status_code == 200  # another client is not affected


def test_probes_and_static_files_are_never_limited_and_other_routes_have_their_own_limit(limited_app):
    client = limited_app(RATE_LIMIT="2 per minute", RATE_LIMIT_OTHER="3 per minute").test_client()
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code != 429  # exempt by path, whether or not the route exists
        with client.get("/assets/chat.css") as static:
            assert static.status_code == 200
    pages = [client.get("/documents").status_code for _ in range(5)]
    assert pages == [200, 200, 200, 429, 429]
    page = client.get("/documents")
    assert page.content_type == "application/json" and "Retry-After" in page.headers
    assert [ask(client).status_code for _ in range(3)] == [200, 200, 429]  # questions count apart


def test_the_address_is_read_through_trusted_proxies_only(limited_app):
    # behind one proxy, X-Forwarded-For's last hop is the client: two clients, two budgets
    client = limited_app(RATE_LIMIT="2 per minute", TRUSTED_PROXIES=1).test_client()
    for forwarded in ("203.0.113.1", "198.51.100.7, 203.0.113.2"):
        assert [ask(client, headers={"X-Forwarded-For": forwarded}).status_code for _ in range(3)] == [200, 200, 429]
    # a client cannot escape by inventing hops in front of the proxy's own entry
    spoofed = [ask(client, headers={"X-Forwarded-For": f"10.9.9.{i}, 203.0.113.1"}).status_code for i in range(2)]
    assert spoofed == [429, 429]
    # without a trusted proxy the header means nothing
    direct = limited_app(RATE_LIMIT="2 per minute").test_client()
    statuses = [ask(direct, headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]


def test_an_unreachable_redis_never_refuses_a_question(limited_app):
    from tests.store.conftest import free_port

    client = limited_app(RATE_LIMIT="2 per minute", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    statuses = [ask(client).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]  # counted in memory meanwhile


# ---- real gunicorn workers on loopback -----------------------------------------------------------

@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    server = Redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared(redis, tmp_path_factory):
    """4 workers counting in the same Redis."""
    server = Gunicorn(tmp_path_factory.mktemp("limits-redis"), "--workers", "4",
                      RATE_LIMIT=f"{LIMIT} per minute", REDIS_URL=redis.url)
    yield server
    log = server.stop()
    assert "Traceback" not in log, log


def flood_beside_a_normal_client(port: int, flooder: str, normal: str):
    """One address asks at 10,000 a minute for 10 s while another asks every half second."""
    def normal_client() -> list[int]:
        statuses = []
        for _ in range(int(FLOOD_SECONDS / 0.5)):
            started = time.monotonic()
            statuses.append(http(port, "POST", "/api/ask", ask_body("哪几类数码产品有购新补贴？"), source=normal)[0])
            time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
        return statuses

    with ThreadPoolExecutor(2) as pool:
        quiet = pool.submit(normal_client)
        flood = pool.submit(paced_questions, port, flooder, FLOOD_PER_MINUTE, FLOOD_SECONDS)
        return flood.result(), quiet.result()


def test_a_flooding_client_is_limited_across_4_workers_sharing_redis(shared):
    flood, quiet = flood_beside_a_normal_client(shared.port, "127.0.0.3", "127.0.0.4")
    print(f"\nRedis, 4 workers, limit {LIMIT}/min: flooding client {dict(flood)}, "
          f"other client {len(quiet)} questions, {quiet.count(200)} answered")
    assert sum(flood.values()) >= FLOOD_PER_MINUTE / 60 * FLOOD_SECONDS * 0.8  # the flood really ran
    assert set(flood) == {200, 429}
    # one budget for all workers; the sliding window may carry a little from the previous minute
    assert LIMIT * 0.8 <= flood[200] <= LIMIT * 1.2
    assert quiet == [200] * len(quiet)


def test_counted_in_memory_each_worker_keeps_its_own_count(tmp_path):
    server = Gunicorn(tmp_path, "--workers", "2", RATE_LIMIT=f"{LIMIT} per minute")
    try:
        flood, quiet = flood_beside_a_normal_client(server.port, "127.0.0.5", "127.0.0.6")
    finally:
        log = server.stop()
    print(f"\nmemory, 2 workers, limit {LIMIT}/min each: flooding client {dict(flood)}, "
          f"other client {quiet.count(200)}/{len(quiet)} answered")
    assert "Traceback" not in log, log
    assert set(flood) == {200, 429}
    assert LIMIT * 0.8 <= flood[200] <= 2 * LIMIT * 1.2  # up to one budget per worker
    assert quiet == [200] * len(quiet)


def test_with_redis_stopped_questions_are_still_answered_and_it_is_used_again_once_back(shared, redis):
    redis.stop()
    started = time.monotonic()
    replies = [http(shared.port, "POST", "/api/ask", ask_body(), source="127.0.0.7") for _ in range(20)]
    elapsed = time.monotonic() - started
    print(f"\nRedis stopped: {len(replies)} questions in {elapsed:.2f}s, statuses "
          f"{sorted({status for status, _, _ in replies})}")
    assert [status for status, _, _ in replies] == [200] * 20
    assert all(json.loads(body)["answered"] for _, _, body in replies)

    # back on the same port: the workers find it again by themselves (Flask-Limiter retries with backoff)
    redis.start()
    client = redis_client.Redis.from_url(redis.url)
    restarted = time.monotonic()
    try:
        while not any(True for _ in client.scan_iter("*policy-qa*")) and time.monotonic() - restarted < 30:
            assert http(shared.port, "POST", "/api/ask", ask_body(), source="127.0.0.8")[0] == 200
            time.sleep(0.5)
        counted = any(True for _ in client.scan_iter("*policy-qa*"))
    finally:
        client.close()
    print(f"Redis restarted: counted there again after {time.monotonic() - restarted:.1f}s")
    assert counted
