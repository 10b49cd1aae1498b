"""Answers as Slack Block Kit messages and as Mattermost Markdown; the engine never sees either."""
from __future__ import annotations

import re

from ..qa.models import Answer, Citation

SECTION_LIMIT = 3000  # Block Kit section text
FALLBACK_LIMIT = 4000
MAX_QUOTES = 2  # a conflict answer quotes both documents; more would bury the answer
MAX_SOURCES = 5
PARTIAL_ENTITY_RE = re.compile(r"&[a-z]{0,4}$")
MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_~\[\]<>#|])")


def escape_mrkdwn(text: str) -> str:
    """Slack mrkdwn: only &, < and > are control characters in text we did not write."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_markdown(text: str) -> str:
    """Mattermost Markdown: backslash the characters that would format, link or quote."""
    return MARKDOWN_SPECIAL_RE.sub(r"\\\1", text)


def clip(text: str, limit: int) -> str:
    """Shorten escaped text to limit characters without cutting an entity in half."""
    if len(text) <= limit:
        return text
    return PARTIAL_ENTITY_RE.sub("", text[: limit - 1]) + "…"


def source_label(citation: Citation) -> str:
    """《document》 section clause, as plain text."""
    parts = [f"《{citation.document}》", citation.section, citation.number]
    return " ".join(p for p in parts if p)


def quoted(citations: tuple[Citation, ...]) -> list[Citation]:
    return [c for c in citations if c.sentence][:MAX_QUOTES]


def slack_message(answer: Answer) -> dict:
    """Block Kit: the answer, the quoted answering sentences, a context block naming the sources."""
    if not answer.answered:
        return slack_notice(answer.text)
    blocks = [mrkdwn_section(escape_mrkdwn(answer.text))]
    for citation in quoted(answer.citations):
        lines = escape_mrkdwn(citation.sentence).splitlines()
        blocks.append(mrkdwn_section("\n".join(f"> {line}" for line in lines if line.strip())))
    if answer.citations:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": clip(f"{label(i)}：{escape_mrkdwn(source_label(c))}", SECTION_LIMIT)}
            for i, c in enumerate(answer.citations[:MAX_SOURCES])
        ]})
    fallback = answer.text
    if answer.citations:
        fallback += f"\n{label(0)}：{source_label(answer.citations[0])}"
    return {"text": clip(escape_mrkdwn(fallback), FALLBACK_LIMIT), "blocks": blocks}


def mrkdwn_section(escaped: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(escaped, SECTION_LIMIT)}}


def label(index: int) -> str:
    """The first source answers; the others are related passages."""
    return "来源" if index == 0 else "另见"


def slack_notice(text: str) -> dict:
    """A reply with no sources (refusal, help, error): one section and its fallback."""
    escaped = escape_mrkdwn(text)
    return {"text": clip(escaped, FALLBACK_LIMIT), "blocks": [mrkdwn_section(escaped)]}


def mattermost_text(answer: Answer) -> str:
    """Markdown: the answer, the quoted sentences, then the sources in bold-labelled lines."""
    if not answer.answered:
        return escape_markdown(answer.text)
    lines = [escape_markdown(answer.text), ""]
    for citation in quoted(answer.citations):
        lines += [f"> {escape_markdown(line)}" for line in citation.sentence.splitlines() if line.strip()]
        lines.append("")
    for i, citation in enumerate(answer.citations[:MAX_SOURCES]):
        lines.append(f"**{label(i)}**：{escape_markdown(source_label(citation))}")
    return "\n".join(lines).rstrip()
