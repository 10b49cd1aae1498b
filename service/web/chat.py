"""The chat page at / and the document views its citations link to: a thin HTML adapter over QAEngine."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, request

from ..qa.engine import QAEngine
from ..qa.library import read_removed

bp = Blueprint("chat", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")

# The page runs only its own files: no inline script, no third-party origin. The JS talks to /api/ on
# this origin; `data:` images are not needed, so none are allowed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
KIND_LABELS = {"law": "法律", "regulation": "法规规章", "policy": "政策文件", "plan": "规划计划", "report": "工作报告",
               "news": "新闻报道"}
EXAMPLES_FILE = "examples.txt"


def load_examples(prompts_dir: Path) -> list[str]:
    """Example questions for the empty state: one per line in prompts/examples.txt, '#' lines are notes."""
    path = prompts_dir / EXAMPLES_FILE
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@bp.record_once
def _load(state) -> None:
    # read once when the factory registers the page, not per request and not at import
    state.app.extensions["chat_examples"] = load_examples(Path(state.app.config["PROMPTS_DIR"]))


@bp.after_app_request
def _security_headers(response):
    # every response, pages and JSON alike; another adapter may set its own values first
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def engine() -> QAEngine:
    return current_app.extensions["qa"]


@bp.get("/")
def index():
    return render_template(
        "chat.html",
        examples=current_app.extensions.get("chat_examples", []),
        max_chars=current_app.config["MAX_QUESTION_CHARS"],
        documents=[d for d in engine().documents.values() if d.kind != "news"],
    )


@bp.get("/documents")
def documents():
    qa = engine()
    counts: dict[str, int] = {}
    for clause in qa.clauses:
        counts[clause.doc_id] = counts.get(clause.doc_id, 0) + 1
    # catalogued documents first (policy, report), then the news articles found beside them
    docs = sorted(qa.documents.values(), key=lambda d: (d.kind == "news", d.kind, d.id))
    return render_template("documents.html", documents=docs, counts=counts, kinds=KIND_LABELS)


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    qa = engine()
    doc = qa.documents.get(doc_id)
    if doc is None:
        removed = read_removed(Path(current_app.config["CORPUS_DIR"])).get(doc_id)
        return render_template("not_found.html", doc_id=doc_id, removed=removed), 410 if removed else 404
    clauses = qa.document_clauses(doc_id)
    cited = request.args.get("clause", "")
    # a link from a stored answer may name a clause an edit has since changed or removed: say so
    return render_template(
        "document.html", doc=doc, rows=document_rows(clauses), kinds=KIND_LABELS, cited=cited,
        cited_found=any(c.id == cited for c in clauses),
    )


def document_rows(clauses: list) -> list[tuple[str, int, object]]:
    """The document as a tree in reading order: ("heading", depth, label) where a heading opens, ("clause", 0, c)."""
    rows: list[tuple[str, int, object]] = []
    open_path: tuple[str, ...] = ()
    for clause in clauses:
        path = clause.path or ((clause.section,) if clause.section else ())
        shared = 0
        while shared < min(len(path), len(open_path)) and path[shared] == open_path[shared]:
            shared += 1
        for depth in range(shared, len(path)):
            rows.append(("heading", depth + 1, path[depth]))
        open_path = path
        rows.append(("clause", 0, clause))
    return rows
