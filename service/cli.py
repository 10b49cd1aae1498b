"""policy-qa: ingest report, questions from the terminal, the index artifact, adding and removing documents,
the store's stats, export, purge."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from .config import load_settings
from .qa import generations, library
from .qa.engine import QAEngine
from .qa.ingest import ingest
from .qa.tokenize import Tokenizer, Vocabulary


def ingest_report(corpus_dir: Path, check: bool = False) -> tuple[str, int]:
    """What ingestion found per document, for a person to check the split; with check, exit 1 on any error."""
    report = ingest(corpus_dir)
    lines = []
    for doc in report.documents:
        clauses = [c for c in report.clauses if c.doc_id == doc.id]
        if doc.kind == "news":
            continue
        lines.append(f"{doc.id} [{doc.kind}] {doc.name} {doc.wenhao} {doc.issuer} {doc.date}"
                     + (f" 施行 {doc.effective}" if doc.effective else "") + (f" ({doc.status})" if doc.status else ""))
        lines.append(f"  files: {', '.join(doc.files)}")
        counts = report.structure.get(doc.id, {})
        lines.append("  found: " + "  ".join(f"{k} {v}" for k, v in counts.items())
                     + f"  merged duplicates: {report.merged.get(doc.id, 0)}")
        for heading in doc.toc:
            n = sum(1 for c in clauses if heading.label in c.path or c.section == heading.label)
            lines.append(f"  {'  ' * heading.level}{heading.label} ({n})")
    news = Counter(report.news_fragments)
    lines.append("news articles split off per source: " + json.dumps(dict(news), ensure_ascii=False))
    for problem in report.problems:
        lines.append(str(problem))
    errors = len(report.errors)
    lines.append(f"{len(report.documents)} documents, {len(report.clauses)} units, {errors} errors")
    return "\n".join(lines), (1 if check and errors else 0)


def build_index(corpus_dir: Path, index_dir: Path, workers: int | None, force: bool) -> str:
    """Publish (or confirm) the index generation for the corpus; what was done, for the terminal."""
    t0 = time.perf_counter()
    tokenizer = Tokenizer(Vocabulary.load(corpus_dir))
    report, index, built = generations.refresh(corpus_dir, index_dir, tokenizer, QAEngine._indexed_text,
                                               force=force, workers=workers, progress=True)
    folder = generations.current_dir(index_dir)
    if not built:
        return f"{folder}: up to date ({len(report.clauses)} clauses)"
    size = sum(p.stat().st_size for p in folder.iterdir())
    return (f"{folder}: built {index.n} clauses, {len(index.terms)} terms, {index.arrays['rows'].size} postings,"
            f" {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="policy-qa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="print what ingestion found per document")
    ing.add_argument("--check", action="store_true",
                     help="exit 1 when a catalog entry matches nothing, a policy is demoted to news, a unit is too "
                          "long or holds page furniture or a signature, or two different documents would merge")
    ask = sub.add_parser("ask", help="answer questions from the terminal (one conversation)")
    ask.add_argument("questions", nargs="+")
    ask.add_argument("--json", action="store_true", help="print the full JSON reply")
    add_store_commands(sub)
    add_library_commands(sub)
    build = sub.add_parser("build-index", help="build the BM25 index artifact in INDEX_DIR (if missing or stale)")
    build.add_argument("--workers", type=int, default=None, help="tokenizing processes (default: one per core)")
    build.add_argument("--force", action="store_true", help="rebuild even when the artifact is up to date")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "ingest":
        text, status = ingest_report(Path(settings["CORPUS_DIR"]), check=args.check)
        print(text)
        return status
    if args.command in STORE_COMMANDS:
        return store_command(args, settings)
    if args.command in LIBRARY_COMMANDS:
        return library_command(args, settings)
    index_dir = Path(settings["INDEX_DIR"]) if settings["INDEX_DIR"] else None
    if args.command == "build-index":
        if index_dir is None:
            parser.error("INDEX_DIR is empty: set POLICY_QA_INDEX_DIR to the artifact folder")
        print(build_index(Path(settings["CORPUS_DIR"]), index_dir, args.workers, args.force))
        return 0
    engine = QAEngine(Path(settings["CORPUS_DIR"]), Path(settings["PROMPTS_DIR"]), index_dir=index_dir)
    conversation = None
    for question in args.questions:
        answer = engine.ask(question, conversation, channel="cli")
        conversation = answer.conversation_id
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False, indent=1))
        else:
            print(f"问：{question}\n答：{answer.text}")
            for c in answer.citations[:1]:
                print(f"  出处：《{c.document}》{c.section} {c.number}")
    return 0


LIBRARY_COMMANDS = ("add", "remove", "list")


def add_library_commands(sub) -> None:
    add = sub.add_parser("add", help="copy documents into corpus/raw/, show what was found, publish a new index")
    add.add_argument("files", nargs="+", type=Path)
    for key in library.CATALOG_KEYS:
        add.add_argument(f"--{key}", help=f"{key} for documents.toml (overrides what is read from the text)")
    add.add_argument("--preview", action="store_true", help="only show what would be found; change nothing")
    add.add_argument("--replace", action="store_true", help="replace a raw file of the same name")
    remove = sub.add_parser("remove", help="delete a document's raw files and catalog entry, publish a new index")
    remove.add_argument("id")
    sub.add_parser("list", help="the documents the corpus holds")


def tree_text(result: dict) -> str:
    """What an add found, for a person to check: each document's metadata, sections and units."""
    lines = []
    for doc in result["documents"]:
        meta = "，".join(x for x in (doc["issuer"], doc["date"]) if x)
        lines.append(f"{doc['id']} [{doc['kind']}] {doc['title']}" + (f"（{meta}）" if meta else ""))
        lines.append(f"  sources: {', '.join(doc['sources'])}")
        lines.append(f"  sections: {len(doc['sections'])}  units: {doc['units']}")
        for section in doc["sections"]:
            numbers = "".join(u["number"] for u in section["units"] if u["number"].startswith("（"))
            lines.append(f"    {section['title'] or '（无标题）'} ({len(section['units'])}) {numbers}".rstrip())
    corpus = result["corpus"]
    if result["preview"]:
        lines.append("preview only: nothing was changed")
    elif result["published"]:
        lines.append(f"published index generation {result['generation']}: "
                     f"{corpus['documents']} documents, {corpus['clauses']} clauses")
    else:
        lines.append("INDEX_DIR is empty: the service reads the corpus at its next start")
    return "\n".join(lines)


def library_command(args: argparse.Namespace, settings: dict) -> int:
    """add / remove / list against the corpus and index folder the settings name."""
    corpus_dir = Path(settings["CORPUS_DIR"])
    index_dir = Path(settings["INDEX_DIR"]) if settings["INDEX_DIR"] else None
    if args.command == "list":
        report = library.current_report(corpus_dir, index_dir)
        units = Counter(c.doc_id for c in report.clauses)
        for d in report.documents:
            print(f"{d.id}\t{d.kind}\t{units[d.id]}\t{d.title}\t{', '.join(d.sources)}")
        return 0
    tokenizer = Tokenizer(Vocabulary.load(corpus_dir))
    try:
        if args.command == "remove":
            result = library.remove(corpus_dir, index_dir, args.id, tokenizer=tokenizer,
                                    indexed_text=QAEngine._indexed_text, lock_wait=None)
            print(f"removed {result['removed']}: {result['title']} "
                  f"({', '.join(result['files'])})")
            if result["published"]:
                print(f"published index generation {result['generation']}")
            return 0
        uploads = []
        for path in args.files:
            try:
                uploads.append(library.Upload(path.name, path.read_bytes()))
            except OSError as exc:
                print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
                return 2
        overrides = {k: getattr(args, k) for k in library.CATALOG_KEYS}
        result = library.add(corpus_dir, index_dir, uploads, overrides, tokenizer=tokenizer,
                             indexed_text=QAEngine._indexed_text, preview=args.preview, replace=args.replace,
                             max_bytes=settings["UPLOAD_MAX_BYTES"], time_limit=settings["UPLOAD_EXTRACT_SECONDS"],
                             lock_wait=None)
    except library.LibraryError as err:
        print(f"{args.command}: {err.message}", file=sys.stderr)
        return 1
    print(tree_text(result))
    return 0


STORE_COMMANDS = ("stats", "export", "purge", "migrate")


def add_store_commands(sub) -> None:
    stats = sub.add_parser("stats", help="questions per day, answer rate, feedback and the unanswered queue")
    stats.add_argument("--days", type=int, default=30, help="how far back (default 30)")
    stats.add_argument("--json", action="store_true", help="print what GET /api/admin/stats returns")
    export = sub.add_parser("export", help="print the unanswered queue or every turn as CSV")
    export.add_argument("what", choices=("unanswered", "turns"))
    export.add_argument("--days", type=int, default=30, help="how far back (default 30)")
    purge = sub.add_parser("purge", help="delete turns and feedback older than the retention period")
    purge.add_argument("--days", type=int, default=None, help="override RETENTION_DAYS")
    migrate = sub.add_parser("migrate", help="bring the database schema up to date (the app also does this at start)")
    migrate.add_argument("--new", metavar="MESSAGE", help="then write a migration for what schema.py changed")


def store_command(args: argparse.Namespace, settings: dict) -> int:
    """stats / export / purge / migrate against the store the settings name."""
    from .store import open_store, report

    store = open_store(settings)
    try:
        store.migrate()
        if args.command == "migrate":
            if args.new:
                from .store.migrate import new_revision

                new_revision(store.engine, args.new)
            print("schema is up to date")
            return 0
        if args.command == "purge":
            days = settings["RETENTION_DAYS"] if args.days is None else args.days
            if days < 0:
                print("--days must not be negative", file=sys.stderr)
                return 2
            if days == 0:
                print("RETENTION_DAYS=0 keeps turns forever; only old Slack event ids are purged", file=sys.stderr)
            print(json.dumps({"days": days, "deleted": store.purge(days)}, ensure_ascii=False))
            return 0
        if args.days <= 0:
            print("--days must be positive", file=sys.stderr)
            return 2
        if args.command == "export" and args.what == "turns":
            sys.stdout.write(report.to_csv(report.turn_rows(store.export_turns(args.days)), report.TURN_COLUMNS))
            return 0
        stats = store.stats(args.days)
        # the near-miss clause is named from the corpus, which is read without building the index
        clauses = {c.id: c for c in ingest(Path(settings["CORPUS_DIR"])).clauses}
        stats["unanswered"] = report.with_clauses(stats["unanswered"], clauses)
        if args.command == "export":
            sys.stdout.write(report.to_csv(report.queue_rows(stats["unanswered"]), report.QUEUE_COLUMNS))
        elif args.json:
            print(json.dumps(stats, ensure_ascii=False, indent=1))
        else:
            print(report.stats_text(stats))
        return 0
    finally:
        store.dispose()


if __name__ == "__main__":
    sys.exit(main())
