import json
import sys

import pytest

from advisor.cli import main


@pytest.fixture(autouse=True)
def isolated_user_folder(tmp_path, monkeypatch):
    """Only the built-in board profiles, never the developer's ~/.config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def advisor(monkeypatch, capsys):
    """Run the real `advisor` entry point in-process: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["advisor", *args])
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def recommend_json(advisor):
    """`advisor recommend ... --json`, parsed, with its exit code."""

    def run(*args: str) -> tuple[int, dict]:
        code, out, err = advisor("recommend", *args, "--json")
        assert out.strip(), f"no JSON on stdout (exit {code}): {err}"
        return code, json.loads(out)

    return run
