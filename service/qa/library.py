"""Add, remove and list documents: raw files, their documents.toml entries, then a new index generation.

One add or remove at a time (the generation lock). An add stages the corpus with the new files in a
temporary folder, ingests it in a child process with a time limit (a file that stalls extraction is
killed, not served), shows what was found, and only then copies the files into raw/, writes the catalog
and publishes. A preview stops before copying: nothing changes.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import tomlkit

from . import generations
from .ingest import SUPPORTED_SUFFIXES, Report, ingest, load_catalog
from .models import Clause
from .tokenize import Tokenizer

CATALOG = "documents.toml"
REMOVED = "removed.json"  # doc id -> title and time, so a removed document's page can say so
CATALOG_KEYS = ("id", "title", "issuer", "date", "kind")
KINDS = ("law", "regulation", "policy", "plan", "report", "news")
MAX_NAME_CHARS = 100
LOCK_WAIT_S = 10.0


class LibraryError(Exception):
    """A refused add or remove: an HTTP status, a code and a message for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Upload:
    name: str  # as given; stored under safe_name(name)
    data: bytes


def safe_name(name: str) -> str:
    """A raw file name that is one plain path component: letters (any script), digits, - _ . only."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name or "")[-1]).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        stem, suffix = base, ""
    stem = re.sub(r"\.{2,}", ".", re.sub(r"[^\w\-.]+", "_", stem)).strip("._")[: MAX_NAME_CHARS]
    suffix = suffix.lower()
    if not stem or f".{suffix}" not in SUPPORTED_SUFFIXES:
        accepted = "、".join(SUPPORTED_SUFFIXES)
        raise LibraryError(415, "unsupported_file", f"不支持的文件“{name}”：只接受 {accepted} 文件")
    return f"{stem}.{suffix}"


def _catalog_doc(corpus_dir: Path) -> tomlkit.TOMLDocument:
    path = corpus_dir / CATALOG
    return tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()


def _entries(doc: tomlkit.TOMLDocument):
    return doc["document"] if "document" in doc else None


def bind_entry(doc: tomlkit.TOMLDocument, name: str, overrides: dict[str, str]) -> None:
    """Replace any entry bound to raw file `name` with one holding `overrides` (other entries untouched)."""
    unbind(doc, {name}, None)
    table = tomlkit.table()
    table.trivia.indent = "\n"  # a blank line before it, like the hand-written entries
    table["file"] = name
    for key in CATALOG_KEYS:
        if overrides.get(key):
            table[key] = overrides[key]
    entries = _entries(doc)
    if entries is None:
        entries = tomlkit.aot()
        doc.append("document", entries)
    entries.append(table)


def unbind(doc: tomlkit.TOMLDocument, names: set[str], doc_id: str | None) -> int:
    """Drop the entries bound to these raw files (or with this id); how many."""
    entries = _entries(doc)
    if entries is None:
        return 0
    drop = [i for i, e in enumerate(entries) if e.get("file") in names or (doc_id and e.get("id") == doc_id)]
    for i in reversed(drop):
        del entries[i]
    return len(drop)


def catalog_bytes_of(doc: tomlkit.TOMLDocument) -> bytes:
    """The catalog as written: entries removed at the end leave no trailing blank lines."""
    return (tomlkit.dumps(doc).rstrip() + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _ingest_child(conn, corpus_dir: Path) -> None:
    try:
        conn.send((True, ingest(corpus_dir)))
    except BaseException as exc:  # reported to the parent, which refuses the add
        conn.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def ingest_limited(corpus_dir: Path, seconds: float) -> Report:
    """ingest(corpus_dir) in a forked child that is killed after `seconds`."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_ingest_child, args=(send, corpus_dir), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise LibraryError(422, "extraction_timeout", f"读取文件超过 {seconds:g} 秒，已停止")
        ok, value = receive.recv()
    except EOFError:
        raise LibraryError(422, "extraction_failed", "读取文件的进程意外退出") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if not ok:
        raise LibraryError(422, "extraction_failed", f"无法读取文件：{value}")
    return value


def lock_path(corpus_dir: Path, index_dir: Path | None) -> Path:
    """The lock every add, remove and generation build holds."""
    return index_dir / generations.LOCK if index_dir else corpus_dir / ".policy-qa.lock"


def describe(report: Report, documents: list) -> list[dict]:
    """Each document's metadata and tree (sections with their units), as JSON."""
    by_doc: dict[str, list[Clause]] = {}
    for c in report.clauses:
        by_doc.setdefault(c.doc_id, []).append(c)
    out = []
    for doc in documents:
        clauses = by_doc.get(doc.id, [])
        sections = [{"title": name, "units": [{"id": c.id, "number": c.number, "chars": len(c.text)} for c in group]}
                    for name, group in groupby(clauses, key=lambda c: c.section)]
        out.append({"id": doc.id, "title": doc.title, "issuer": doc.issuer, "date": doc.date, "kind": doc.kind,
                    "sources": list(doc.sources), "units": len(clauses), "sections": sections})
    return out


def add(corpus_dir: Path, index_dir: Path | None, uploads: list[Upload], overrides: dict[str, str], *,
        tokenizer: Tokenizer, indexed_text: Callable[[Clause], str], preview: bool = False,
        replace: bool = False, max_bytes: int, time_limit: float, lock_wait: float | None = LOCK_WAIT_S) -> dict:
    """Stage, ingest (time-limited), describe; unless previewing, copy in, bind overrides and publish."""
    if not uploads:
        raise LibraryError(400, "no_file", "没有收到文件")
    overrides = {k: str(v).strip() for k, v in overrides.items() if k in CATALOG_KEYS and v and str(v).strip()}
    if overrides.get("kind") and overrides["kind"] not in KINDS:
        raise LibraryError(400, "invalid_kind", f"kind 须为 {'、'.join(KINDS)} 之一")
    if len(uploads) > 1 and ({"id", "title"} & overrides.keys()):
        raise LibraryError(400, "ambiguous_override", "一次添加多个文件时不能指定同一个 id 或标题")
    names = [safe_name(u.name) for u in uploads]
    if len(set(names)) != len(names):
        raise LibraryError(400, "duplicate_name", "同名文件只能添加一次")
    for u in uploads:
        if len(u.data) > max_bytes:
            raise LibraryError(413, "file_too_large", f"文件“{u.name}”超过 {max_bytes} 字节")
        if not u.data.strip():
            raise LibraryError(400, "empty_file", f"文件“{u.name}”是空的")
    raw = corpus_dir / "raw"
    with _locked(corpus_dir, index_dir, lock_wait):
        for name, u in zip(names, uploads, strict=True):
            if (raw / name).exists() and not replace and (raw / name).read_bytes() != u.data:
                raise LibraryError(409, "file_exists", f"语料中已有不同内容的“{name}”（替换请先删除，或用 replace）")
        catalog = _catalog_doc(corpus_dir)
        for name in names:
            if overrides:
                bind_entry(catalog, name, overrides)
        catalog_bytes = catalog_bytes_of(catalog)
        # the new files, and the texts extracted from them, are staged fresh; the rest are the corpus's own
        fresh = set(names) | {n + generations.DERIVED_SUFFIX for n in names}
        with tempfile.TemporaryDirectory(prefix="policy-qa-add-") as tmp:
            stage = Path(tmp)
            (stage / "raw").mkdir()
            for path in sorted(raw.iterdir()) if raw.is_dir() else []:
                if path.is_file() and path.name not in fresh:
                    (stage / "raw" / path.name).symlink_to(path.resolve())
            for name, u in zip(names, uploads, strict=True):
                (stage / "raw" / name).write_bytes(u.data)
            (stage / CATALOG).write_bytes(catalog_bytes)
            try:  # never publish a catalog the service cannot read
                load_catalog(stage / CATALOG)
            except (KeyError, ValueError) as exc:  # TOML errors are ValueErrors too
                raise LibraryError(400, "invalid_catalog_entry", f"documents.toml 条目无法读取：{exc}") from None
            report = ingest_limited(stage, time_limit)
            # what ingestion wrote beside the new files (their extracted texts) is published with them
            written = {p.name: p.read_bytes() for p in (stage / "raw").iterdir()
                       if p.is_file() and not p.is_symlink() and p.name not in names}
        # a document cites its source, or the text extracted from it (x.pdf.txt)
        sources = {f"corpus/raw/{n}{derived}" for n in names for derived in ("", generations.DERIVED_SUFFIX)}
        found = [d for d in report.documents if sources & set(d.sources)]
        if not found:
            raise LibraryError(422, "nothing_found", "文件中没有找到可引用的文本")
        result = {"preview": preview, "published": False, "files": names, "documents": describe(report, found),
                  "corpus": {"documents": len(report.documents), "clauses": len(report.clauses)}}
        if preview:
            return result
        raw.mkdir(parents=True, exist_ok=True)
        for name, data in [*zip(names, (u.data for u in uploads), strict=True), *written.items()]:
            _write_atomic(raw / name, data)
        _write_atomic(corpus_dir / CATALOG, catalog_bytes)
        _forget_removed(corpus_dir, {d.id for d in found})
        result.update(_publish(corpus_dir, index_dir, tokenizer, indexed_text, report))
        return result


def remove(corpus_dir: Path, index_dir: Path | None, doc_id: str, *, tokenizer: Tokenizer,
           indexed_text: Callable[[Clause], str], lock_wait: float | None = LOCK_WAIT_S) -> dict:
    """Delete a document's raw files and catalog entries, remember it as removed, publish."""
    with _locked(corpus_dir, index_dir, lock_wait):
        report = current_report(corpus_dir, index_dir)
        doc = next((d for d in report.documents if d.id == doc_id), None)
        if doc is None:
            raise LibraryError(404, "not_found", f"没有编号为“{doc_id}”的文件")
        names = {s.rsplit("/", 1)[-1] for s in doc.sources}
        # a cited text extracted from a PDF, DOCX or HTML source goes with its source
        names |= {n[: -len(generations.DERIVED_SUFFIX)] for n in names if n.endswith(generations.DERIVED_SUFFIX)
                  and (corpus_dir / "raw" / n[: -len(generations.DERIVED_SUFFIX)]).is_file()}
        sharing = sorted(d.id for d in report.documents if d.id != doc.id and set(d.sources) & set(doc.sources))
        if sharing:
            raise LibraryError(409, "shared_file", f"“{doc_id}”与 {'、'.join(sharing[:5])} 印在同一原始文件中，"
                                                   "不能单独删除；请编辑 documents.toml")
        catalog = _catalog_doc(corpus_dir)
        unbind(catalog, names, doc.id)
        _write_atomic(corpus_dir / CATALOG, catalog_bytes_of(catalog))
        for name in names:
            (corpus_dir / "raw" / name).unlink(missing_ok=True)
        removed = read_removed(corpus_dir)
        removed[doc.id] = {"title": doc.title, "removed_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
        _write_atomic(corpus_dir / REMOVED, json.dumps(removed, ensure_ascii=False, indent=1).encode("utf-8"))
        result = {"removed": doc.id, "title": doc.title, "files": sorted(names), "published": False}
        result.update(_publish(corpus_dir, index_dir, tokenizer, indexed_text, None))
        return result


def current_report(corpus_dir: Path, index_dir: Path | None) -> Report:
    """What the corpus holds now: the published generation's documents if current, else a fresh ingest."""
    if index_dir is not None:
        key = generations.ingest_key(generations.ingest_inputs(corpus_dir, generations.known_inputs(index_dir)))
        cached = generations.cached_report(index_dir, key)
        if cached is not None:
            return cached
    return ingest(corpus_dir)


def read_removed(corpus_dir: Path) -> dict:
    """Removed documents: id -> {title, removed_at}."""
    try:
        data = json.loads((corpus_dir / REMOVED).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _forget_removed(corpus_dir: Path, ids: set[str]) -> None:
    removed = read_removed(corpus_dir)
    if ids & removed.keys():
        kept = {k: v for k, v in removed.items() if k not in ids}
        _write_atomic(corpus_dir / REMOVED, json.dumps(kept, ensure_ascii=False, indent=1).encode("utf-8"))


@contextmanager
def _locked(corpus_dir: Path, index_dir: Path | None, wait: float | None) -> Iterator[None]:
    try:
        with generations.locked(lock_path(corpus_dir, index_dir), wait):
            yield
    except generations.LockTimeout as exc:
        raise LibraryError(409, "busy", str(exc)) from None


def _publish(corpus_dir: Path, index_dir: Path | None, tokenizer: Tokenizer,
             indexed_text: Callable[[Clause], str], report: Report | None) -> dict:
    """A new generation for the changed corpus (we hold the lock: refresh must not take it again)."""
    if index_dir is None:  # memory-only services read the corpus at their next start
        return {"published": False, "generation": None}
    inputs = generations.ingest_inputs(corpus_dir, generations.known_inputs(index_dir))
    report, _ = generations.publish(index_dir, report or ingest(corpus_dir), inputs, tokenizer, indexed_text)
    pointer = generations.read_pointer(index_dir) or {}
    return {"published": True, "generation": pointer.get("generation"),
            "corpus": {"documents": len(report.documents), "clauses": len(report.clauses)}}
