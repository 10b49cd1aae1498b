"""The Store on SQLite and PostgreSQL: turns, votes, the unanswered queue, retention, Slack event ids."""
from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import timedelta

import pytest

from service.qa.conversation import Turn
from service.store import Store, UnknownConversation, UnknownTurn, client_ip, normalize_question
from service.store.store import utcnow


def refusal(question: str, near: tuple[str, ...] = (), created: float | None = None) -> Turn:
    extra = {"created": created} if created is not None else {}
    return Turn(question, question, "refusal", False, near, "web", 3.0, **extra)


def answer(question: str, clause: str = "doc-1", latency: float = 5.0) -> Turn:
    return Turn(question, question, "quantity", True, (clause, "doc-2"), "api", latency)


def run_all(stores: list[Store], work) -> None:
    """work(k) for every store k, each on its own thread at once; then close the stores."""
    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()


def test_turns_are_numbered_per_conversation_and_read_back(store: Store):
    cid, other = store.new_id(), store.new_id()
    assert store.last_turn(cid) is None
    assert store.add_turn(cid, answer("耕地保有量目标是多少？")) == 1
    assert store.add_turn(other, refusal("今天天气怎么样？")) == 1
    second = Turn("那永久基本农田呢？", "永久基本农田目标是多少？", "quantity", True, ("c-9",), "slack", 12.5)
    assert store.add_turn(cid, second) == 2
    last = store.last_turn(cid)
    assert last == Turn(second.question, second.resolved, "quantity", True, ("c-9",), "slack", 12.5,
                        created=pytest.approx(second.created, abs=1e-3))
    assert [t["number"] for t in store.conversation(cid)] == [1, 2]
    assert store.conversation(cid)[0]["client_ip"] is None  # nothing sets it unless STORE_CLIENT_IP is on


def test_concurrent_writers_to_one_conversation_get_distinct_numbers(store: Store):
    # separate Store objects: separate pools, as separate workers would have
    stores = [Store(store.url) for _ in range(6)]
    cid = "shared-conversation"
    numbers: list[int] = []
    lock = threading.Lock()

    def write(s: Store):
        for i in range(10):
            n = s.add_turn(cid, answer(f"问题{i}"))
            with lock:
                numbers.append(n)

    run_all(stores, lambda k: write(stores[k]))
    assert sorted(numbers) == list(range(1, 61))


def test_second_vote_replaces_the_first(store: Store):
    cid = store.new_id()
    store.add_turn(cid, answer("耕地保有量目标是多少？"))
    assert store.set_feedback(cid, 1, "up") is False
    assert store.set_feedback(cid, 1, "down", "数字不对") is True
    turn = store.conversation(cid)[0]
    assert (turn["rating"], turn["comment"]) == ("down", "数字不对")
    stats = store.stats()
    assert stats["feedback"] == {"up": 0, "down": 1, "comments": 1}
    with pytest.raises(UnknownTurn):
        store.set_feedback(cid, 2, "up")
    with pytest.raises(UnknownConversation):
        store.set_feedback("nope", 1, "up")
    with pytest.raises(ValueError):
        store.set_feedback(cid, 1, "meh")


def test_unanswered_queue_groups_refusals_and_down_votes(store: Store):
    now = time.time()
    a, b, c = store.new_id(), store.new_id(), store.new_id()
    store.add_turn(a, refusal("日本的耕地保有量是多少？", ("news-1",), created=now - 300))
    store.add_turn(b, refusal("日本的耕地保有量是多少", ("news-1",), created=now - 200))  # same, folded
    store.add_turn(b, refusal("ＡＢＣ补贴怎么领？", created=now - 100))  # width and case fold too
    store.add_turn(c, refusal("abc补贴怎么领", created=now - 50))
    store.add_turn(c, answer("以旧换新补贴标准是多少？", clause="policy-7"))
    store.add_turn(c, answer("耕地保有量目标是多少？", clause="policy-1"))
    store.set_feedback(c, 2, "down")
    store.set_feedback(c, 3, "up")
    store.add_turn(c, Turn("你好", "你好", "help", False, (), "web"))  # a greeting is not a failure

    queue = store.stats()["unanswered"]
    summary = [(q["normalized"], q["clause_id"], q["count"], q["refusals"], q["down_votes"]) for q in queue]
    assert summary == [
        ("以旧换新补贴标准是多少", "policy-7", 1, 0, 1),
        ("abc补贴怎么领", None, 2, 2, 0),
        ("日本的耕地保有量是多少", "news-1", 2, 2, 0),
    ]
    stats = store.stats()
    assert (stats["questions"], stats["answered"], stats["refused"]) == (7, 2, 4)
    assert stats["answer_rate"] == pytest.approx(2 / 6, abs=1e-4)
    assert stats["channels"] == {"api": 2, "web": 5}
    assert stats["per_day"][-1]["questions"] == 7


def test_normalize_question_folds_width_case_and_punctuation():
    assert normalize_question(" ＡＢＣ 补贴，怎么领？ ") == normalize_question("abc补贴怎么领") == "abc补贴怎么领"


def test_purge_drops_old_turns_votes_and_empty_conversations(store: Store):
    old, mixed = store.new_id(), store.new_id()
    long_ago = time.time() - 40 * 86400
    store.add_turn(old, refusal("旧问题", created=long_ago))
    store.set_feedback(old, 1, "down")
    store.add_turn(mixed, refusal("旧问题二", created=long_ago))
    store.add_turn(mixed, answer("新问题"))
    assert store.mark_event_seen("Ev-old")
    deleted = store.purge(30, now=utcnow() + timedelta(days=3))  # event ids outlive Slack's retries by far
    # `old` has no turn left and goes; `mixed` keeps its recent turn
    assert deleted == {"turns": 2, "feedback": 1, "conversations": 1, "events": 1}
    assert store.count_turns() == 1
    assert [t["question"] for t in store.conversation(mixed)] == ["新问题"]
    assert store.last_turn(old) is None
    assert store.mark_event_seen("Ev-later")
    assert store.purge(0, now=utcnow() + timedelta(days=60)) == {  # 0 keeps turns; event ids still go
        "turns": 0, "feedback": 0, "conversations": 0, "events": 1}
    deleted = store.purge(30, now=utcnow() + timedelta(days=60))
    assert deleted == {"turns": 1, "feedback": 0, "conversations": 1, "events": 0}
    assert store.count_turns() == 0


def test_client_ip_is_stored_only_when_set(store: Store):
    cid = store.new_id()
    token = client_ip.set("192.0.2.7")
    try:
        store.add_turn(cid, answer("有IP"))
    finally:
        client_ip.reset(token)
    store.add_turn(cid, answer("没有IP"))
    assert [t["client_ip"] for t in store.conversation(cid)] == ["192.0.2.7", None]


def test_event_ids_are_new_exactly_once_across_connections(store: Store):
    ids = [f"Ev{i:04d}" for i in range(40)]
    # separate Store objects (own pools, as gunicorn workers have) try every id at once:
    # the primary key must let exactly one of them win each
    stores = [Store(store.url) for _ in range(4)]
    won = [0] * len(stores)

    def mark_all(k: int):
        won[k] = sum(stores[k].mark_event_seen(i) for i in ids)

    run_all(stores, mark_all)
    assert sum(won) == len(ids)
    assert store.mark_event_seen("Ev0001") is False
    assert store.mark_event_seen("Ev-new") is True


def test_store_is_the_slack_adapters_dedup(store: Store):
    key = "message:C0123:1700000000." + "9" * 300  # longer than the column: kept as its hash
    assert store.seen(key) is False
    assert store.seen(key) is True
    assert store.seen("event:Ev1") is False
    assert store.mark_event_seen("event:Ev1") is False


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'wal.sqlite3'}", busy_timeout_ms=1234)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.dispose()


def _answer_in_forked_child(store: Store, conversation_id: str) -> None:
    inherited = store._engine  # read past the property, whose pid check would already replace it
    store.add_turn(conversation_id, answer("子进程问"))
    if store.engine is inherited:
        raise SystemExit(3)  # the child wrote through its parent's sockets


# Python 3.12+ warns when forking beside live threads (other modules' fixtures may keep some);
# the child here only talks to the database, as a gunicorn worker does.
@pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks:DeprecationWarning")
def test_a_forked_worker_builds_its_own_engine(store: Store):
    cid = store.new_id()
    store.add_turn(cid, answer("父进程问"))  # the parent's pool now holds an open connection
    parent_engine = store.engine
    child = multiprocessing.get_context("fork").Process(target=_answer_in_forked_child, args=(store, cid))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    # the parent's pooled connection survived the child (which must not have closed it)
    assert store.engine is parent_engine
    assert store.add_turn(cid, answer("父进程又问")) == 3
    assert [t["question"] for t in store.conversation(cid)] == ["父进程问", "子进程问", "父进程又问"]
