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


def test_the_real_deployment_steps_are_real_commands() -> None:
    """Each `mamori …` line of "Set up a real deployment" parses with the real command line (options included)."""
    import shlex

    import click

    from mamori.cli.main import main

    section = README.split("## Set up a real deployment", 1)[1].split("\n## ", 1)[0]
    commands = []
    for line in section.splitlines():
        words = shlex.split(line.split("#", 1)[0])
        while words and "=" in words[0]:
            words.pop(0)  # MAMORI_HOST=0.0.0.0 mamori up
        if words[:1] == ["mamori"]:
            commands.append(words[1:])
    assert len(commands) >= 9
    for args in commands:
        command: click.Command = main
        while isinstance(command, click.Group):
            name, args = args[0], args[1:]
            found = command.get_command(click.Context(command), name)
            assert found is not None, name
            command = found
        command.make_context(command.name or "", list(args))  # an unknown option or a missing argument raises


def test_make_run_installs_only_the_runtime_dependencies_and_keeps_the_dev_tools() -> None:
    """`make run` syncs without the dev group (--no-dev) and without removing it (--inexact); `make test` syncs it."""
    makefile = (REPO / "Makefile").read_text()
    recipes = {block.split(":", 1)[0]: block for block in makefile.split("\n\n")}
    run = next(block for block in makefile.split("\n") if block.startswith("run:"))
    assert run.split()[1:] == ["env-run"] and "env-run: .venv/.synced-run" in makefile
    runtime = next(b for name, b in recipes.items() if name.endswith(".venv/.synced-run"))
    assert "sync --frozen --no-dev --inexact" in runtime
    dev = next(b for name, b in recipes.items() if name.endswith(".venv/.synced-dev"))
    assert "--no-dev" not in dev and "env: .venv/.synced-dev" in makefile
    assert ".venv/bin/mamori" in README and "source .venv/bin/activate" in README
