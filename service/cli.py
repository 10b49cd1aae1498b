"""policy-qa: the ingest report, a question from the terminal, the index artifact."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from .config import load_settings
from .qa.build import artifact_meta, is_current, load_or_build
from .qa.engine import QAEngine
from .qa.index import read_meta
from .qa.ingest import ingest
from .qa.tokenize import Tokenizer, Vocabulary


def ingest_report(corpus_dir: Path) -> str:
    """What ingestion found per document, for a person to check the split."""
    report = ingest(corpus_dir)
    lines = []
    for doc in report.documents:
        clauses = [c for c in report.clauses if c.doc_id == doc.id]
        sections = list(dict.fromkeys(c.section for c in clauses))
        numbered = sum(1 for c in clauses if c.number.startswith("（"))
        lines.append(f"{doc.id} [{doc.kind}] {doc.title}")
        lines.append(f"  sources: {', '.join(doc.sources)}")
        lines.append(f"  sections: {len(sections)}  units: {len(clauses)}  numbered clauses: {numbered}"
                     f"  merged duplicates: {report.merged.get(doc.id, 0)}")
        if doc.kind != "news":
            for section in sections:
                n = sum(1 for c in clauses if c.section == section)
                lines.append(f"    {section} ({n})")
    per_source = Counter({k: v for k, v in report.news_fragments.items()})
    lines.append("news articles split off per source: " + json.dumps(dict(per_source), ensure_ascii=False))
    return "\n".join(lines)


def build_index(corpus_dir: Path, index_dir: Path, workers: int | None, force: bool) -> str:
    """Build (or confirm) the index artifact for the corpus; what was done, for the terminal."""
    t0 = time.perf_counter()
    clauses = ingest(corpus_dir).clauses
    tokenizer = Tokenizer(Vocabulary.load(corpus_dir))
    texts = [QAEngine._indexed_text(c) for c in clauses]
    current = is_current(read_meta(index_dir), artifact_meta(texts, tokenizer))
    if current and not force:
        return f"{index_dir}: up to date ({len(clauses)} clauses)"
    index = load_or_build(index_dir, clauses, texts, tokenizer, workers=workers, progress=True, force=True)
    size = sum(p.stat().st_size for p in index_dir.iterdir())
    return (f"{index_dir}: built {index.n} clauses, {len(index.terms)} terms, {index.arrays['rows'].size} postings,"
            f" {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="policy-qa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ingest", help="print what ingestion found per document")
    ask = sub.add_parser("ask", help="answer questions from the terminal (one conversation)")
    ask.add_argument("questions", nargs="+")
    ask.add_argument("--json", action="store_true", help="print the full JSON reply")
    build = sub.add_parser("build-index", help="build the BM25 index artifact in INDEX_DIR (if missing or stale)")
    build.add_argument("--workers", type=int, default=None, help="tokenizing processes (default: one per core)")
    build.add_argument("--force", action="store_true", help="rebuild even when the artifact is up to date")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "ingest":
        print(ingest_report(Path(settings["CORPUS_DIR"])))
        return 0
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


if __name__ == "__main__":
    sys.exit(main())
