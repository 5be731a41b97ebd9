"""The README is checked like code: every setting is documented, and the two commands are the real ones."""

from __future__ import annotations

from mamori.settings import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme() -> None:
    missing = [f"MAMORI_{name.upper()}" for name in Settings.model_fields if f"`MAMORI_{name.upper()}`" not in README]
    assert missing == []


def test_the_readme_commands_are_the_makefile_and_ci_commands() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "make run" in README and "make test" in README
    assert "\nrun: " in makefile and "\ntest: " in makefile
    assert (REPO / ".ci" / "run").read_text().rstrip().endswith("exec make test")
