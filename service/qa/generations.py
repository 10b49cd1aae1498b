"""The index artifact as numbered generations: documents, clauses and BM25 arrays, swapped in by one rename.

    INDEX_DIR/CURRENT       {"generation": 7, "dir": "gen-000007", "ingest_key": …}   replaced atomically
    INDEX_DIR/gen-000007/   meta.json terms.json *.npy (the BM25 arrays)  report.pickle ingest.json
    INDEX_DIR/.lock         held by whoever builds a generation or changes the corpus (one at a time)

A generation caches what ingest() made of the raw files: it is reused while every raw file's content
hash, the catalog and the ingest code are the same (`ingest_key`), so a restart maps the arrays and
unpickles the clauses instead of ingesting again. Readers never lock: they read CURRENT and open the
folder it names; a writer builds the next folder aside and then replaces CURRENT, so a reader sees the
old generation or the new one, never a half-written one. The last KEEP generations stay on disk, so a
process that read CURRENT just before a swap still finds its folder.
"""
from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import logging
import os
import pickle
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import index as bm25
from . import ingest as ingest_module
from .build import artifact_meta, build_index, tokenizer_hash
from .index import ClauseIndex, read_meta
from .ingest import Report, ingest
from .models import Clause
from .tokenize import Tokenizer

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK = ".lock"
REPORT = "report.pickle"
INGEST = "ingest.json"
KEEP = 3
# Bump when what a generation stores changes shape (the service/qa sources are hashed anyway).
CACHE_VERSION = 1
DERIVED_SUFFIX = ".txt"  # ingestion keeps a UTF-8 text of a PDF, DOCX or HTML source as <name>.txt beside it


class LockTimeout(RuntimeError):
    """Another add, remove or build holds the corpus lock."""


@contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing); wait up to `timeout` seconds (None: forever)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout("另一个添加、删除或重建操作正在进行，请稍后再试") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def raw_files(corpus_dir: Path) -> list[Path]:
    """The source files of raw/ in name order: hidden files and extracted texts (x.pdf.txt beside x.pdf) aside.

    Every source counts, whatever its suffix: ingest reads it or reports it, either way its output changes.
    """
    raw = corpus_dir / "raw"
    if not raw.is_dir():
        return []
    return sorted(p for p in raw.iterdir() if p.is_file() and not p.name.startswith(".") and not is_derived(p))


def is_derived(path: Path) -> bool:
    """An extracted text that ingestion writes beside its source (report.pdf.txt beside report.pdf)."""
    return path.name.endswith(DERIVED_SUFFIX) and path.with_name(path.name[: -len(DERIVED_SUFFIX)]).is_file()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def code_hash() -> str:
    """Identity of the code that makes the cached documents: every module of service/qa (ingest and what it imports).

    Hashing the whole package over-invalidates (an edit to the answer logic re-ingests once after the
    deploy), but a module ingest starts to import can never leave a stale cache behind.
    """
    h = hashlib.sha256(f"cache {CACHE_VERSION} python {sys.version_info[:2]}".encode())
    package = Path(ingest_module.__file__).resolve().parent
    for f in sorted(package.rglob("*.py")):
        h.update(str(f.relative_to(package)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def ingest_inputs(corpus_dir: Path, known: dict | None = None) -> dict:
    """Every input of ingest(): the code, the catalog and each raw file's content hash.

    A file whose size and mtime equal what `known` (an earlier generation's inputs) recorded keeps the
    hash recorded there, so checking an unchanged corpus costs a stat per file, not reading it.
    """
    before = (known or {}).get("files", {})
    files = {}
    for path in raw_files(corpus_dir):
        st = path.stat()
        old = before.get(path.name)
        same = old and old["size"] == st.st_size and old["mtime_ns"] == st.st_mtime_ns
        files[path.name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                            "sha256": old["sha256"] if same else file_sha256(path)}
    catalog = corpus_dir / "documents.toml"
    return {"code": code_hash(),
            "catalog": hashlib.sha256(catalog.read_bytes()).hexdigest() if catalog.exists() else "",
            "files": files}


def ingest_key(inputs: dict) -> str:
    """One hash of the inputs that decide ingest()'s output (not sizes and mtimes)."""
    h = hashlib.sha256(f"{inputs['code']}\n{inputs['catalog']}\n".encode())
    for name, f in sorted(inputs["files"].items()):
        h.update(f"{name}\t{f['sha256']}\n".encode())
    return h.hexdigest()


def read_pointer(index_dir: Path) -> dict | None:
    try:
        pointer = json.loads((index_dir / POINTER).read_text(encoding="utf-8"))
        return pointer if isinstance(pointer, dict) and "dir" in pointer else None
    except (OSError, ValueError):
        return None


def pointer_signature(index_dir: Path | None) -> tuple[int, int] | None:
    """What a cheap stat says of CURRENT (inode, mtime): it changes whenever a generation is published."""
    if index_dir is None:
        return None
    try:
        st = (index_dir / POINTER).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def current_dir(index_dir: Path) -> Path | None:
    """The folder of the published generation, if any."""
    pointer = read_pointer(index_dir)
    return index_dir / pointer["dir"] if pointer else None


def _index_identity(tokenizer: Tokenizer) -> dict:
    """The artifact fields that must match for an index to serve with this tokenizer and code."""
    return {"format": bm25.FORMAT, "version": bm25.FORMAT_VERSION, "k1": bm25.K1, "b": bm25.B,
            "epsilon": bm25.EPSILON, "tokenizer_sha256": tokenizer_hash(tokenizer),
            "tokenizer": tokenizer.fingerprint()}


def _load_report(folder: Path) -> Report:
    # 100k clauses are ~200k small objects: the cyclic collector would walk them again and again
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads((folder / REPORT).read_bytes())
    finally:
        if enabled:
            gc.enable()


def load_generation(index_dir: Path, tokenizer: Tokenizer, key: str | None = None
                    ) -> tuple[Report, ClauseIndex] | None:
    """The published generation's report and mapped index, if it is for `key` (any, if None) and this tokenizer."""
    pointer = read_pointer(index_dir)
    if pointer is None or (key is not None and pointer.get("ingest_key") != key):
        return None
    folder = index_dir / pointer["dir"]
    meta = read_meta(folder)
    identity = _index_identity(tokenizer)
    if meta is None or any(meta.get(k) != v for k, v in identity.items()):
        return None
    try:
        report = _load_report(folder)
        return report, ClauseIndex.load(folder, report.clauses, tokenizer.fingerprint())
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError, AttributeError) as exc:
        log.warning("index generation %s unreadable (%s); rebuilding", folder, exc)
        return None


def publish(index_dir: Path, report: Report, inputs: dict, tokenizer: Tokenizer,
            indexed_text: Callable[[Clause], str], workers: int | None = None,
            progress: bool | None = None) -> tuple[Report, ClauseIndex]:
    """Build the next generation aside, then point CURRENT at it. Call with the lock held."""
    texts = [indexed_text(c) for c in report.clauses]
    index = build_index(report.clauses, texts, tokenizer, workers, progress)
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    number = max(numbers, default=0) + 1
    folder = index_dir / f"gen-{number:06d}"
    key = ingest_key(inputs)
    index.save(folder, {**artifact_meta(texts, tokenizer), "generation": number, "ingest_key": key})
    (folder / REPORT).write_bytes(pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL))
    (folder / INGEST).write_text(json.dumps(inputs, ensure_ascii=False), encoding="utf-8")
    pointer = {"generation": number, "dir": folder.name, "ingest_key": key, "clauses": len(report.clauses),
               "documents": len(report.documents), "published": time.time()}
    tmp = index_dir / f"{POINTER}.tmp{os.getpid()}"
    tmp.write_text(json.dumps(pointer, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, index_dir / POINTER)
    for old in sorted(index_dir.glob("gen-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)  # processes still mapping its arrays keep them until they let go
    log.info("index generation %d published in %s (%d clauses)", number, index_dir, len(report.clauses))
    # a mapped index: workers share its pages instead of each holding the arrays just built
    return report, ClauseIndex.load(folder, report.clauses, tokenizer.fingerprint())


def known_inputs(index_dir: Path) -> dict | None:
    """The inputs the published generation was built from (to skip hashing unchanged files)."""
    folder = current_dir(index_dir)
    try:
        return json.loads((folder / INGEST).read_text(encoding="utf-8")) if folder else None
    except (OSError, ValueError):
        return None


def open_corpus(corpus_dir: Path, index_dir: Path | None, tokenizer: Tokenizer,
                indexed_text: Callable[[Clause], str]) -> tuple[Report, ClauseIndex]:
    """Documents, clauses and index: the published generation when it is for these raw files, else built."""
    if index_dir is not None:
        found = load_generation(index_dir, tokenizer, ingest_key(ingest_inputs(corpus_dir, known_inputs(index_dir))))
        if found:
            return found
        try:
            report, index, _ = refresh(corpus_dir, index_dir, tokenizer, indexed_text)
            return report, index
        except OSError as exc:  # a read-only deployment still serves from memory
            log.warning("could not write index generation in %s: %s", index_dir, exc)
    report = ingest(corpus_dir)
    return report, build_index(report.clauses, [indexed_text(c) for c in report.clauses], tokenizer)


def refresh(corpus_dir: Path, index_dir: Path, tokenizer: Tokenizer, indexed_text: Callable[[Clause], str],
            force: bool = False, workers: int | None = None,
            progress: bool | None = None) -> tuple[Report, ClauseIndex, bool]:
    """Under the lock: the published generation if it is current (unless force), else a new one; built?"""
    with locked(index_dir / LOCK):
        inputs = ingest_inputs(corpus_dir, known_inputs(index_dir))
        key = ingest_key(inputs)
        if not force:
            # another process may have published this very corpus while we waited
            found = load_generation(index_dir, tokenizer, key)
            if found:
                return (*found, False)
        report = (None if force else cached_report(index_dir, key)) or ingest(corpus_dir)
        return (*publish(index_dir, report, inputs, tokenizer, indexed_text, workers, progress), True)


def cached_report(index_dir: Path, key: str) -> Report | None:
    """The published generation's documents when they are for `key` (only the tokenizer changed)."""
    pointer = read_pointer(index_dir)
    if pointer is None or pointer.get("ingest_key") != key:
        return None
    try:
        return _load_report(index_dir / pointer["dir"])
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError):
        return None
