"""POST /api/admin/documents (multipart upload), DELETE /api/admin/documents/<id>, GET the list: admin token."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from ..qa import library
from ..qa.engine import QAEngine
from .admin import private, require_token
from .errors import ApiError

bp = Blueprint("documents", __name__)
bp.before_request(require_token)
bp.after_request(private)

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the metadata fields around the file
TRUE = ("1", "true", "yes", "on")


@bp.before_request
def upload_limit() -> None:
    """Uploads have their own body limit; MAX_BODY_BYTES stays the limit of the question API."""
    request.max_content_length = current_app.config["UPLOAD_MAX_BYTES"] + MULTIPART_OVERHEAD


def engine() -> QAEngine:
    return current_app.extensions["qa"]


def folders() -> tuple[Path, Path | None]:
    index = current_app.config["INDEX_DIR"]
    return Path(current_app.config["CORPUS_DIR"]), Path(index) if index else None


@bp.get("/api/admin/documents")
def listing():
    qa = engine()
    units = Counter(c.doc_id for c in qa.clauses)
    return jsonify({"documents": [
        {"id": d.id, "title": d.title, "issuer": d.issuer, "date": d.date, "kind": d.kind, "units": units[d.id]}
        for d in qa.documents.values()]})


@bp.post("/api/admin/documents")
def upload():
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "请以 multipart/form-data 上传文件（字段名 file）")
    files = request.files.getlist("file")
    uploads = [library.Upload(f.filename or "", f.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)) for f in files]
    preview = (request.args.get("preview") or request.form.get("preview") or "").lower() in TRUE
    replace = (request.form.get("replace") or "").lower() in TRUE
    overrides = {k: request.form.get(k, "") for k in library.CATALOG_KEYS}
    corpus_dir, index_dir = folders()
    result = run(lambda: library.add(
        corpus_dir, index_dir, uploads, overrides, tokenizer=engine().tokenizer, indexed_text=QAEngine._indexed_text,
        preview=preview, replace=replace, max_bytes=current_app.config["UPLOAD_MAX_BYTES"],
        time_limit=current_app.config["UPLOAD_EXTRACT_SECONDS"]))
    return jsonify(result), 200 if preview else 201


@bp.delete("/api/admin/documents/<doc_id>")
def delete(doc_id: str):
    corpus_dir, index_dir = folders()
    return jsonify(run(lambda: library.remove(corpus_dir, index_dir, doc_id, tokenizer=engine().tokenizer,
                                              indexed_text=QAEngine._indexed_text)))


def run(action):
    try:
        return action()
    except library.LibraryError as err:
        raise ApiError(err.status, err.code, err.message) from None
