"""Every setting is documented in the README's configuration table."""
from __future__ import annotations

from pathlib import Path

from service.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_in_readme():
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


def test_readme_gives_the_two_commands():
    assert "make run" in README and "make test" in README
