"""The chat page and document views through the Flask test client: structure, escaping, headers."""
from __future__ import annotations

import re
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import pytest
import tomllib
from markupsafe import escape

from service.config import load_settings
from service.web.chat import load_examples

EXAMPLES = load_examples(Path(load_settings()["PROMPTS_DIR"]))


class Ids(HTMLParser):
    """Collect element ids and script tags of a page."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "script":
            self.scripts.append(attrs)


def parse(html: str) -> Ids:
    parser = Ids()
    parser.feed(html)
    return parser


def assert_page_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_chat_page_is_served_with_security_headers_and_no_inline_script(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_page_headers(response)
    page = parse(response.get_data(as_text=True))
    assert page.scripts and all(s.get("src", "").startswith("/assets/") for s in page.scripts)
    for needed in ("question", "send", "messages", "new-chat", "empty-state", "pending"):
        assert needed in page.ids
    html = response.get_data(as_text=True)
    assert 'aria-live="polite"' in html and '<label for="question"' in html
    assert "http://" not in html and "https://" not in html  # nothing loaded from elsewhere


def test_empty_state_offers_the_example_questions(client):
    html = client.get("/").get_data(as_text=True)
    assert 4 <= len(EXAMPLES) <= 6
    for question in EXAMPLES:
        assert f'data-question="{question}"' in html


@pytest.mark.parametrize("question", EXAMPLES)
def test_every_example_question_gets_a_cited_answer(client, question):
    reply = client.post("/api/ask", json={"question": question}).get_json()
    assert reply["answered"] is True, question
    assert reply["citations"] and reply["citations"][0]["clause_id"]


def test_static_files_are_shipped_with_their_types(client):
    for name, mimetype in (("chat.js", "text/javascript"), ("chat.css", "text/css")):
        response = client.get(f"/assets/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        assert_page_headers(response)
        response.close()


def test_document_list_shows_every_document_with_its_metadata(client, engine):
    response = client.get("/documents")
    assert response.status_code == 200
    assert_page_headers(response)
    html = response.get_data(as_text=True)
    for doc in engine.documents.values():
        assert f'href="/documents/{doc.id}"' in html
    assert "中共中央办公厅 国务院办公厅" in html and "2024-02-05" in html and "政策文件" in html


def test_document_view_has_an_anchor_per_clause_and_marks_the_cited_one(client, engine):
    response = client.get("/documents/gengdi-zhanbu?clause=gengdi-zhanbu-u5f0507e6")
    assert response.status_code == 200
    assert_page_headers(response)
    html = response.get_data(as_text=True)
    ids = parse(html).ids
    clause_ids = [c.id for c in engine.document_clauses("gengdi-zhanbu")]
    assert set(clause_ids) <= set(ids)
    assert re.search(r'<p id="gengdi-zhanbu-u5f0507e6" class="clause cited" aria-current="true">', html)
    assert html.count('class="clause cited"') == 1
    for section in ("一、总体要求", "七、强化保障措施"):
        assert f"<h2>{section}</h2>" in html


def test_unknown_document_is_a_404_page_that_escapes_the_id(client):
    response = client.get("/documents/%3Cscript%3Ealert(1)%3C%5Cscript%3E")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert_page_headers(response)
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_corpus_text_is_escaped_in_the_document_view(client, engine):
    # every clause of every document is rendered as text: its characters come back HTML-escaped
    for doc_id in engine.documents:
        html = client.get(f"/documents/{doc_id}").get_data(as_text=True)
        for clause in engine.document_clauses(doc_id):
            assert str(escape(clause.text)) in html


def test_templates_and_static_files_are_package_data():
    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["service"]
    shipped = [p for d in ("templates", "static") for p in (root / "service" / "web" / d).iterdir() if p.is_file()]
    assert shipped
    for path in shipped:
        relative = path.relative_to(root / "service").as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), f"{relative} would not be installed"
