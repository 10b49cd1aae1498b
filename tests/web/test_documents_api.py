"""Adding and removing documents: the upload API, `policy-qa add/remove/list`, their limits and the live switch."""
from __future__ import annotations

import io
import shutil
import threading
import time
from pathlib import Path

import pytest
import tomllib

from service import cli, create_app
from service.live import LiveEngine
from service.qa import generations, library
from service.qa.engine import QAEngine
from service.qa.tokenize import Tokenizer, Vocabulary

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "add"
TOKEN = "docs-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ELEVATOR = DATA / "qingshan-elevator.txt"
ELEVATOR_TITLE = "青山区既有住宅加装电梯补助实施方案"
QUESTION = "青山区加装电梯每台补助多少钱？"


@pytest.fixture
def corpus(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", target)
    return target


def make_app(corpus: Path, tmp_path: Path, **extra):
    return create_app({"CORPUS_DIR": str(corpus), "PROMPTS_DIR": str(ROOT / "prompts"),
                       "INDEX_DIR": str(tmp_path / "index"), "SQLITE_PATH": str(tmp_path / "store.sqlite3"),
                       "DATABASE_URL": "", "ADMIN_TOKEN": TOKEN, "RELOAD_CHECK_MS": 0, "LOG_LEVEL": "WARNING",
                       **extra})


def upload(client, name: str, data: bytes, preview: bool = False, **fields):
    form = {"file": (io.BytesIO(data), name), **fields}
    return client.post("/api/admin/documents" + ("?preview=1" if preview else ""), data=form, headers=AUTH,
                       content_type="multipart/form-data")


def answered(client, question: str, timeout: float = 15.0) -> bool:
    """Whether the app answers `question` once it has taken any generation published before the call."""
    live = client.application.extensions["qa"]
    deadline = time.monotonic() + timeout
    while True:
        reply = client.post("/api/ask", json={"question": question}).get_json()
        if not live.switching or time.monotonic() > deadline:
            return reply["answered"] and "15万元" in reply["answer"]
        time.sleep(0.05)


def test_upload_preview_publish_and_delete(corpus, tmp_path):
    app = make_app(corpus, tmp_path)
    client = app.test_client()
    catalog_before = (corpus / "documents.toml").read_bytes()
    raw_before = sorted(p.name for p in (corpus / "raw").iterdir())
    assert not answered(client, QUESTION)

    reply = client.post("/api/admin/documents", data={"file": (io.BytesIO(ELEVATOR.read_bytes()), ELEVATOR.name)},
                        content_type="multipart/form-data")
    assert reply.status_code == 401 and reply.get_json()["error"]["code"] == "unauthorized"
    reply = client.post("/api/admin/documents", json={"file": "x"}, headers=AUTH)
    assert reply.status_code == 415 and "multipart" in reply.get_json()["error"]["message"]
    reply = upload(client, "policy.doc", b"binary")
    assert reply.status_code == 415 and ".txt" in reply.get_json()["error"]["message"]
    reply = upload(client, "empty.txt", b"  \n")
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "empty_file"
    reply = upload(client, ELEVATOR.name, ELEVATOR.read_bytes(), kind="poem")
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "invalid_kind"

    # a preview shows the tree and the metadata and changes nothing
    reply = upload(client, ELEVATOR.name, ELEVATOR.read_bytes(), preview=True, id="qingshan-elevator",
                   title=ELEVATOR_TITLE, issuer="青山区人民政府", date="2025-03-01")
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["preview"] and not body["published"]
    (doc,) = body["documents"]
    assert (doc["id"], doc["title"], doc["issuer"], doc["date"]) == (
        "qingshan-elevator", ELEVATOR_TITLE, "青山区人民政府", "2025-03-01")
    numbered = [(s["title"], [u["number"] for u in s["units"]]) for s in doc["sections"]
                if any(u["number"] for u in s["units"])]  # the preamble's section name is ingestion's choice
    assert numbered == [("一、适用范围", ["（一）", "（二）"]), ("二、补助标准", ["（一）", "（二）", "（三）"]),
                        ("三、申请程序", ["（一）", "（二）"])]
    assert doc["units"] == 8 and len(doc["sections"]) == 4
    assert (corpus / "documents.toml").read_bytes() == catalog_before
    assert sorted(p.name for p in (corpus / "raw").iterdir()) == raw_before
    assert generations.read_pointer(tmp_path / "index")["generation"] == 1

    # published: a path in the name is dropped, the catalog gains one entry bound to the file
    reply = upload(client, "../../" + ELEVATOR.name, ELEVATOR.read_bytes(), id="qingshan-elevator",
                   title=ELEVATOR_TITLE, issuer="青山区人民政府", date="2025-03-01")
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["generation"] == 2 and reply.get_json()["files"] == [ELEVATOR.name]
    assert (corpus / "raw" / ELEVATOR.name).read_bytes() == ELEVATOR.read_bytes()
    before = tomllib.loads(catalog_before.decode())["document"]
    after = tomllib.loads((corpus / "documents.toml").read_text(encoding="utf-8"))["document"]
    assert after[:-1] == before
    assert after[-1] == {"file": ELEVATOR.name, "id": "qingshan-elevator", "title": ELEVATOR_TITLE,
                         "issuer": "青山区人民政府", "date": "2025-03-01"}
    assert (corpus / "documents.toml").read_bytes().startswith(catalog_before.rstrip())
    assert answered(client, QUESTION)
    listing = client.get("/api/admin/documents", headers=AUTH).get_json()["documents"]
    assert {"id": "qingshan-elevator", "title": ELEVATOR_TITLE, "issuer": "青山区人民政府", "date": "2025-03-01",
            "kind": "policy", "units": 8} in listing
    assert client.get("/documents/qingshan-elevator").status_code == 200

    # the same name with other content is refused; documents printed on a shared page cannot be removed alone
    reply = upload(client, ELEVATOR.name, ELEVATOR.read_bytes() + "（三）补充一条。\n".encode())
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "file_exists"
    reply = client.delete("/api/admin/documents/gengdi-zhanbu", headers=AUTH)
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "shared_file"
    reply = client.delete("/api/admin/documents/no-such-doc", headers=AUTH)
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "not_found"

    reply = client.delete("/api/admin/documents/qingshan-elevator", headers=AUTH)
    assert reply.status_code == 200 and reply.get_json()["generation"] == 3
    assert (corpus / "documents.toml").read_bytes() == catalog_before
    assert sorted(p.name for p in (corpus / "raw").iterdir()) == raw_before
    assert not answered(client, QUESTION)
    page = client.get("/documents/qingshan-elevator")
    assert page.status_code == 410 and "已被移除" in page.get_data(as_text=True)
    assert client.get("/documents/never-was").status_code == 404


def test_upload_has_its_own_body_limit(corpus, tmp_path):
    app = make_app(corpus, tmp_path, UPLOAD_MAX_BYTES=40_000)
    client = app.test_client()
    text = ELEVATOR.read_text(encoding="utf-8")
    article = "（一）本方案自印发之日起施行，由区住房和城乡建设局负责解释。\n\n"
    big = (text + "\n四、附则\n\n" + article * 300).encode()
    assert 16 * 1024 < len(big) < 40_000
    reply = upload(client, "big.txt", big, preview=True, id="big", title=ELEVATOR_TITLE)
    assert reply.status_code == 200, reply.get_json()
    reply = upload(client, "bigger.txt", big * 2, preview=True, id="big", title=ELEVATOR_TITLE)
    assert reply.status_code == 413 and reply.get_json()["error"]["code"] == "file_too_large"
    reply = upload(client, "biggest.txt", big * 4, preview=True, id="big", title=ELEVATOR_TITLE)  # not even read
    assert reply.status_code == 413 and reply.get_json()["error"]["code"] == "body_too_large"
    # the question API keeps its 16 KB limit
    reply = client.post("/api/ask", json={"question": "耕地" * 10_000})
    assert reply.status_code == 413 and reply.is_json


def test_extraction_time_limit_and_one_change_at_a_time(corpus, tmp_path, monkeypatch):
    tokenizer = Tokenizer(Vocabulary.load(corpus))
    index = tmp_path / "index"
    args = dict(tokenizer=tokenizer, indexed_text=QAEngine._indexed_text, max_bytes=1 << 20)
    uploads = [library.Upload(ELEVATOR.name, ELEVATOR.read_bytes())]

    def stalls(corpus_dir):
        time.sleep(30)

    monkeypatch.setattr(library, "ingest", stalls)  # the forked child runs it
    t0 = time.monotonic()
    with pytest.raises(library.LibraryError) as err:
        library.add(corpus, index, uploads, {"id": "elevator", "title": ELEVATOR_TITLE}, time_limit=0.5, **args)
    assert err.value.code == "extraction_timeout" and time.monotonic() - t0 < 10
    assert not (corpus / "raw" / ELEVATOR.name).exists()
    monkeypatch.undo()

    held = threading.Event()
    release = threading.Event()

    def hold():
        with generations.locked(library.lock_path(corpus, index)):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(library.LibraryError) as err:
            library.add(corpus, index, uploads, {}, time_limit=30, lock_wait=0.3, **args)
        assert err.value.status == 409 and err.value.code == "busy"
    finally:
        release.set()
        holder.join()


@pytest.mark.parametrize("name, stored", [
    ("政策 文件(2025).txt", "政策_文件_2025.txt"), ("a/b\\c.TXT", "c.txt"), ("a..b.txt", "a.b.txt"), ("..txt", None),
    ("x.pdf.exe", None),
    ("", None), ("noext", None),
])
def test_safe_names(name, stored):
    if stored is None:
        with pytest.raises(library.LibraryError):
            library.safe_name(name)
    else:
        assert library.safe_name(name) == stored


def test_cli_add_list_remove(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POLICY_QA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("POLICY_QA_INDEX_DIR", str(tmp_path / "index"))
    catalog_before = (corpus / "documents.toml").read_bytes()
    assert cli.main(["add", str(ELEVATOR), "--id", "qingshan-elevator", "--title", ELEVATOR_TITLE, "--kind", "policy",
                     "--preview"]) == 0
    out = capsys.readouterr().out
    assert "二、补助标准 (3) （一）（二）（三）" in out and "nothing was changed" in out
    assert not (corpus / "raw" / ELEVATOR.name).exists()
    assert cli.main(["add", str(ELEVATOR), "--id", "qingshan-elevator", "--title", ELEVATOR_TITLE]) == 0
    out = capsys.readouterr().out
    assert f"qingshan-elevator [policy] {ELEVATOR_TITLE}" in out and "published index generation 1" in out
    assert cli.main(["list"]) == 0
    assert f"qingshan-elevator\tpolicy\t8\t{ELEVATOR_TITLE}" in capsys.readouterr().out
    assert cli.main(["ask", QUESTION]) == 0
    assert "15万元" in capsys.readouterr().out
    assert cli.main(["add", str(tmp_path / "missing.txt")]) == 2
    assert cli.main(["add", str(ROOT / "pyproject.toml")]) == 1
    assert "只接受 .txt" in capsys.readouterr().err
    assert cli.main(["remove", "qingshan-elevator"]) == 0
    assert "removed qingshan-elevator" in capsys.readouterr().out
    assert (corpus / "documents.toml").read_bytes() == catalog_before
    assert cli.main(["remove", "qingshan-elevator"]) == 1
    assert cli.main(["ask", QUESTION]) == 0
    assert "15万元" not in capsys.readouterr().out


def test_a_request_in_flight_keeps_its_engine(tmp_path):
    """The switch happens between requests: a pinned request sees the old engine to its end."""
    old = QAEngine(ROOT / "corpus", ROOT / "prompts")
    new = old.with_store(old.store)  # another engine object is enough to tell them apart
    index = tmp_path / "index"
    index.mkdir()
    (index / generations.POINTER).write_text("{}")
    live = LiveEngine(old, lambda current: new, index, check_ms=0, signature=None)
    live.begin_request()  # sees the moved pointer, starts building aside
    live._builder.join(10)
    assert live.engine is old and live.clauses is old.clauses
    live.end_request()
    live.begin_request()  # the next request takes the new engine
    assert live.engine is new and live.switches == 1
    live.end_request()
    live.begin_request()  # nothing moved since: no rebuild
    assert not live.switching
    assert live.engine is new and live.switches == 1
    live.end_request()
