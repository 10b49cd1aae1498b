"""Answer templates from prompts/: loaded once, checked loudly at load time."""
from __future__ import annotations

import string
from pathlib import Path

FACT = {"document", "section", "fact"}
REQUIRED: dict[str, set[str]] = {
    "quantity": FACT,
    "time": FACT,
    "who": FACT | {"body"},
    "measures": FACT,
    "definition": FACT,
    "yesno": FACT | {"verdict"},
    "general": FACT,
    "outline": {"document", "count", "items"},
    "conflict": {"items"},
    "parts": {"items"},
    "refusal": {"reason", "covered"},
    "help": set(),
}


class TemplateError(ValueError):
    pass


class Templates:
    def __init__(self, texts: dict[str, str]):
        self._texts = texts

    @classmethod
    def load(cls, prompts_dir: Path) -> Templates:
        """Read one template per kind; a missing file or a wrong placeholder stops start-up."""
        texts = {}
        for kind, required in REQUIRED.items():
            path = prompts_dir / f"{kind}.txt"
            if not path.is_file():
                raise TemplateError(f"missing template {path}")
            text = path.read_text(encoding="utf-8").strip()
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            if used != required:
                raise TemplateError(
                    f"{path.name}: placeholders {sorted(used)} but kind {kind!r} fills {sorted(required)}"
                )
            texts[kind] = text
        return cls(texts)

    def render(self, kind: str, **values: object) -> str:
        return self._texts[kind].format(**values)

    def overhead(self, kind: str, slot: str = "fact", **values: object) -> int:
        """Characters the template adds around an empty slot (to budget the 300-character answer)."""
        return len(self.render(kind, **{**values, slot: ""}))
