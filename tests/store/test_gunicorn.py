"""4 real gunicorn workers on loopback (--preload, as the Procfile runs them), on SQLite and on PostgreSQL."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.store import Store
from tests.servers import Service

from .conftest import database_url

WORKERS = 4
# The access log names the worker (pid) that served each request and the test's label for it.
LOG_FORMAT = '%(p)s %({x-test-label}i)s %(s)s'
CHAINS = [
    # (question, what the resolved question must be, what the answer must contain)
    [("黔东南2023年粮食种植面积是多少？", "黔东南2023年粮食种植面积是多少", "405.3万亩"),
     ("粮食总产量呢？", "黔东南2023年粮食总产量是多少", "133.8万吨"),
     ("增长了多少？", "黔东南2023年粮食总产量增长了多少", "133.8万吨")],
    [("黔东南2023年地区生产总值是多少？", "黔东南2023年地区生产总值是多少", "1329.65亿元"),
     ("增长了多少？", "黔东南2023年地区生产总值增长了多少", "增长4%"),
     ("那粮食总产量呢？", "黔东南2023年粮食总产量增长了多少", "133.8万吨")],  # the predicate asked stays
    [("耕地保有量目标是多少？", "耕地保有量目标是多少", "18.65亿亩"),
     ("那永久基本农田呢？", "永久基本农田目标是多少", "永久基本农田")],
]


class Gunicorn(Service):
    """4 workers whose access log names the worker (pid) that served each labelled request."""

    def __init__(self, url: str, tmp):
        self.access_log = tmp / "access.log"
        super().__init__(tmp, {"POLICY_QA_DATABASE_URL": url}, workers=WORKERS, options=[
            "--access-logfile", str(self.access_log), "--access-logformat", LOG_FORMAT])

    def request(self, method: str, path: str, body: dict | None = None, label: str = "-") -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json", "X-Test-Label": label, "Connection": "close"},
        )
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read())

    def ask(self, question: str, conversation_id: str | None, label: str) -> dict:
        body = {"question": question, **({"conversation_id": conversation_id} if conversation_id else {})}
        return self.request("POST", "/api/ask", body, label)

    def workers_by_label(self) -> dict[str, set[str]]:
        served: dict[str, set[str]] = defaultdict(set)
        for line in self.access_log.read_text().splitlines():
            pid, label, _status = line.split(" ")
            served[label].add(pid)
        return served


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    """One gunicorn per backend per module, and a Store on the same database for checking."""
    tmp = tmp_path_factory.mktemp(f"gunicorn-{request.param}")
    url = database_url(request.param, request, tmp)
    server = Gunicorn(url, tmp)
    store = Store(url)
    yield server, store
    store.dispose()
    server.stop()
    assert "Traceback" not in server.log(), server.log()


def test_follow_ups_are_understood_whichever_worker_takes_them(served):
    server, store = served

    def converse(k: int) -> list[tuple[dict, tuple[str, str, str]]]:
        chain = CHAINS[k % len(CHAINS)]
        out, cid = [], None
        for question, resolved, fact in chain:
            reply = server.ask(question, cid, label=f"chain{k}")
            cid = reply["conversation_id"]
            out.append((reply, (question, resolved, fact)))
        return out

    # Which worker accepts a connection is up to the kernel; rounds of 12 concurrent
    # conversations go on until some have really crossed workers (the first round nearly always does).
    crossed: list[str] = []
    for round_number in range(4):
        labels = range(round_number * 12, round_number * 12 + 12)
        with ThreadPoolExecutor(8) as pool:
            conversations = list(pool.map(converse, labels))
        for replies in conversations:
            for number, (reply, (question, resolved, fact)) in enumerate(replies, 1):
                assert reply["turn"] == number, question
                assert reply["resolved_question"].rstrip("?？") == resolved, question
                assert fact in reply["answer"], (question, reply["answer"])
            stored = store.conversation(replies[0][0]["conversation_id"])
            assert [t["question"] for t in stored] == [q for _, (q, _, _) in replies]
        served_by = server.workers_by_label()
        crossed = [label for label, pids in served_by.items() if label.startswith("chain") and len(pids) > 1]
        if len(crossed) >= 3:
            break
    # the test means something only if conversations really crossed workers
    assert len(crossed) >= 3, served_by


def test_200_questions_from_8_threads_lose_nothing(served):
    server, store = served
    before = store.count_turns()
    questions = ["耕地保有量目标是多少？", "哪几类数码产品有购新补贴？", "今天天气怎么样？", "那永久基本农田呢？"]

    def ask_many(thread: int) -> list[tuple[str, int]]:
        cid, out = None, []
        for i in range(25):
            reply = server.ask(questions[(thread + i) % len(questions)], cid, label=f"load{thread}")
            cid = reply["conversation_id"]
            out.append((cid, reply["turn"]))
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = [pair for pairs in pool.map(ask_many, range(8)) for pair in pairs]
    elapsed = time.perf_counter() - started
    assert len(results) == len(set(results)) == 200
    assert store.count_turns() - before == 200
    for cid in {cid for cid, _ in results}:
        assert [t["number"] for t in store.conversation(cid)] == list(range(1, 26))
    print(f"\n{store.engine.dialect.name}: 200 questions from 8 threads in {elapsed:.2f}s")


def test_feedback_from_any_worker_lands_on_the_turn(served):
    server, store = served
    reply = server.ask("今天天气怎么样？", None, label="vote")
    cid = reply["conversation_id"]
    for rating in ("up", "down", "down", "up", "down"):  # five requests, likely several workers
        vote = server.request("POST", "/api/feedback", {"conversation_id": cid, "turn": 1, "rating": rating},
                              label="vote")
        assert vote["rating"] == rating
    assert [t["rating"] for t in store.conversation(cid)] == ["down"]
    with pytest.raises(urllib.error.HTTPError) as err:
        server.request("POST", "/api/feedback", {"conversation_id": cid, "turn": 9, "rating": "up"})
    assert err.value.code == 404
    assert json.loads(err.value.read())["error"]["code"] == "unknown_turn"
