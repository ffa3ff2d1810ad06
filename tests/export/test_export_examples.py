"""The GitHub Actions example parses and names only real board profiles and real options."""

from pathlib import Path

import pytest

from advisor.boards import load_board

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "github-actions-check.yml"


def test_example_workflow_is_valid_and_targets_known_boards():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(EXAMPLE.read_text())
    job = workflow["jobs"]["check"]
    for board in job["strategy"]["matrix"]["board"]:
        assert load_board(board).id == board
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert 'advisor check "$model" --board "${{ matrix.board }}" --json' in script
