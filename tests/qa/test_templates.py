from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.qa.reader import MAX_ANSWER, fit
from service.qa.templates import REQUIRED, TemplateError, Templates

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


def test_every_kind_has_a_template_that_renders():
    templates = Templates.load(PROMPTS)
    for kind, names in REQUIRED.items():
        text = templates.render(kind, **{n: f"<{n}>" for n in names})
        assert all(f"<{n}>" in text for n in names)


def test_missing_placeholder_fails_at_load(tmp_path):
    shutil.copytree(PROMPTS, tmp_path / "p")
    (tmp_path / "p" / "quantity.txt").write_text("根据《{document}》，{fact}。", encoding="utf-8")
    with pytest.raises(TemplateError, match="quantity.txt"):
        Templates.load(tmp_path / "p")


def test_unknown_placeholder_fails_at_load(tmp_path):
    shutil.copytree(PROMPTS, tmp_path / "p")
    (tmp_path / "p" / "who.txt").write_text("{body}{document}{section}{fact}{oops}", encoding="utf-8")
    with pytest.raises(TemplateError, match="who.txt"):
        Templates.load(tmp_path / "p")


def test_missing_file_fails_at_load(tmp_path):
    shutil.copytree(PROMPTS, tmp_path / "p")
    (tmp_path / "p" / "help.txt").unlink()
    with pytest.raises(TemplateError, match="help.txt"):
        Templates.load(tmp_path / "p")


def test_long_facts_are_cut_to_fit():
    templates = Templates.load(PROMPTS)
    fact = "，".join(["实施耕地保护措施"] * 80)
    text = fit(templates, "general", fact, document="某文件", section="一、总则")
    assert len(text) <= MAX_ANSWER and text.endswith("……。")
