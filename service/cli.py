"""policy-qa: the ingest report, a question from the terminal."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from .config import load_settings
from .qa.engine import QAEngine
from .qa.ingest import ingest


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="policy-qa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ingest", help="print what ingestion found per document")
    ask = sub.add_parser("ask", help="answer questions from the terminal (one conversation)")
    ask.add_argument("questions", nargs="+")
    ask.add_argument("--json", action="store_true", help="print the full JSON reply")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "ingest":
        print(ingest_report(Path(settings["CORPUS_DIR"])))
        return 0
    engine = QAEngine(Path(settings["CORPUS_DIR"]), Path(settings["PROMPTS_DIR"]))
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
