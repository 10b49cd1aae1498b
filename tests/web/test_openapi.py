"""The OpenAPI document: it matches the routes, states every answer, and schemathesis finds nothing against it."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT, Service

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}  # HEAD and OPTIONS come with every route
RATE_EXEMPT = {"/healthz", "/readyz", "/assets/{filename}"}  # probes and static files are never rate limited
ADMIN_TOKEN = "schemathesis-admin-token"


def documented(spec: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in spec["paths"].items() for method in item}


def routed(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        out |= {(path, method) for method in rule.methods & METHODS}
    return out


@pytest.fixture
def full_app(make_app):
    """Every route on: admin, Slack and Mattermost."""
    return make_app(ADMIN_TOKEN=ADMIN_TOKEN, SLACK_SIGNING_SECRET="s", MATTERMOST_TOKEN="m")


def test_every_route_is_documented_and_every_documented_route_exists(full_app):
    spec = full_app.test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert documented(spec) == routed(full_app)


def test_every_operation_states_its_errors_and_rate_limit(full_app):
    spec = full_app.test_client().get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert any(c.startswith("2") for c in codes), (path, method)
            assert any(c.startswith("4") for c in codes), (path, method)
            assert ("429" in codes) == (path not in RATE_EXEMPT), (path, method)
            for response in operation["responses"].values():
                assert "$ref" in response or response.get("content") or response.get("description"), (path, method)


def test_the_question_limit_is_this_deployments(make_app):
    spec = make_app(MAX_QUESTION_CHARS=120).test_client().get("/api/openapi.json").get_json()
    assert spec["components"]["schemas"]["AskRequest"]["properties"]["question"]["maxLength"] == 120


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    """All of schemathesis's default checks, 100 examples an operation, against gunicorn on loopback."""
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli, "schemathesis is a test dependency (pyproject.toml [test])"
    # the admin token lets its DELETEs reach library.remove, which locks and edits the corpus: a copy,
    # so the shipped one is never changed and its generation lock (.policy-qa.lock) is not left in it
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    service = Service(tmp_path, {
        "POLICY_QA_CORPUS_DIR": str(corpus), "POLICY_QA_INDEX_DIR": str(tmp_path / "index"),
        "POLICY_QA_SQLITE_PATH": str(tmp_path / "store.sqlite3"), "POLICY_QA_DATABASE_URL": "",
        "POLICY_QA_ADMIN_TOKEN": ADMIN_TOKEN, "POLICY_QA_SLACK_SIGNING_SECRET": "schemathesis-signing-secret",
        "POLICY_QA_MATTERMOST_TOKEN": "schemathesis-mattermost-token", "POLICY_QA_SLACK_BOT_TOKEN": "",
        # limits raised for the run: the fuzzer asks far faster than any one client may
        "POLICY_QA_RATE_LIMIT": "1000000 per minute", "POLICY_QA_RATE_LIMIT_OTHER": "1000000 per minute",
    })
    try:
        run = subprocess.run(
            [cli, "run", f"{service.url}/api/openapi.json", "--max-examples", "100", "--seed", "11",
             "--workers", "1", "--header", f"Authorization: Bearer {ADMIN_TOKEN}", "--no-color",
             # an upload's body is a policy document, which no generator writes: its own tests
             # (tests/web/test_documents_api.py) send real ones; random bytes only meet its 415
             "--exclude-operation-id", "addDocuments",
             "--report", "junit", "--report-dir", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
    finally:
        service.stop()
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "Traceback" not in service.log(), service.log()
