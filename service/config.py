"""Every setting with its default and a one-line help; read from defaults, environment, then a mapping."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str) -> str:
    """corpus/ and prompts/ next to the working directory (Procfile), else next to the package."""
    here = Path.cwd() / name
    return str(here if here.is_dir() else ROOT / name)


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("CORPUS_DIR", None, "folder with raw/, documents.toml, userdict.txt, synonyms.toml, stopwords.txt"),
    Setting("PROMPTS_DIR", None, "folder with the answer templates, one file per answer kind"),
    Setting("MAX_QUESTION_CHARS", 500, "longest question accepted by /api/ask (characters)"),
    Setting("MAX_BODY_BYTES", 16 * 1024, "largest request body accepted on /api/ (bytes)"),
    Setting("LOG_LEVEL", "INFO", "logging level of the service"),
    Setting("INDEX_DIR", "var/index", "BM25 index artifact folder, built when missing or stale; empty: memory only"),
)


def load_settings(overrides: dict | None = None) -> dict:
    """Defaults, then POLICY_QA_<NAME> environment variables, then the given mapping."""
    out: dict = {}
    for s in SETTINGS:
        value = s.default
        env = os.environ.get(f"POLICY_QA_{s.name}")
        if env is not None:
            value = type(s.default)(env) if isinstance(s.default, int) else env
        out[s.name] = value
    out.update(overrides or {})
    out["CORPUS_DIR"] = out["CORPUS_DIR"] or _default_dir("corpus")
    out["PROMPTS_DIR"] = out["PROMPTS_DIR"] or _default_dir("prompts")
    return out
