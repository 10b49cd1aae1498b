"""What staff read: the stats as text for the terminal, and CSV for a spreadsheet (shared by web and CLI)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping

from ..qa.models import Clause

QUEUE_COLUMNS = ("last_asked", "count", "refusals", "down_votes", "question", "clause_id", "document", "section",
                 "clause", "clause_text")
TURN_COLUMNS = ("created_at", "conversation_id", "number", "channel", "question", "resolved", "kind", "answered",
                "clause_ids", "latency_ms", "rating", "comment")
# A cell a spreadsheet would run as a formula: questions are typed by anyone on the internet.
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def with_clauses(queue: list[dict], by_id: Mapping[str, Clause]) -> list[dict]:
    """Queue entries with the near-miss clause spelled out (None when the corpus no longer has it)."""
    out = []
    for item in queue:
        clause = by_id.get(item["clause_id"] or "")
        near = None
        if clause is not None:
            near = {"clause_id": clause.id, "document": clause.document, "section": clause.section,
                    "clause": clause.number, "text": clause.text}
        out.append({**item, "near_clause": near})
    return out


def stats_text(stats: dict) -> str:
    """The admin page's content as plain text."""
    rate = stats["answer_rate"]
    lines = [
        f"since {stats['since']} ({stats['days']} days): {stats['questions']} questions in "
        f"{stats['conversations']} conversations; answered {stats['answered']}, refused {stats['refused']}, "
        f"answer rate {'-' if rate is None else f'{rate:.1%}'}",
        f"latency ms: avg {stats['latency_ms']['avg']}, max {stats['latency_ms']['max']}; channels: "
        + json.dumps(stats["channels"], ensure_ascii=False),
        f"feedback: {stats['feedback']['up']} up, {stats['feedback']['down']} down, "
        f"{stats['feedback']['comments']} with comments",
        "per day:",
    ]
    lines += [f"  {d['date']}  {d['questions']:>6} questions  {d['answered']:>6} answered" for d in stats["per_day"]]
    lines.append(f"unanswered queue ({len(stats['unanswered'])} groups, newest first):")
    for item in stats["unanswered"]:
        near = item.get("near_clause")
        where = f"  nearest: 《{near['document']}》{near['section']} {near['clause']}".rstrip() if near else ""
        lines.append(f"  {item['last_asked']}  x{item['count']} (refused {item['refusals']}, "
                     f"down {item['down_votes']})  {item['question']}{where}")
    return "\n".join(lines)


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_LEAD):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict], columns: tuple[str, ...]) -> str:
    """Rows as CSV with a header; text that a spreadsheet would evaluate is defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def queue_rows(queue: list[dict]) -> Iterable[dict]:
    for item in queue:
        near = item.get("near_clause") or {}
        yield {**item, "document": near.get("document"), "section": near.get("section"),
               "clause": near.get("clause"), "clause_text": near.get("text")}


def turn_rows(turns: Iterable[dict]) -> Iterable[dict]:
    for turn in turns:
        yield {**turn, "created_at": turn["created_at"].isoformat(timespec="seconds") + "Z",
               "clause_ids": " ".join(turn["clause_ids"]), "answered": int(turn["answered"])}
