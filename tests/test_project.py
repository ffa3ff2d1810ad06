"""The project's own wiring: CI runs what README.md tells a user to run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("Install everything and run the whole test suite")[1].split("```")[1]
    command = block.strip().removeprefix("bash").strip()
    setup = "python3 -m venv .venv && . .venv/bin/activate && "
    assert command.startswith(setup)
    assert command.removeprefix(setup) in (ROOT / ".ci" / "run").read_text()
