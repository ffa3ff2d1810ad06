import json
import math
import sys

import pytest

from advisor.cli import main
from advisor.scaling import Curve, Prior
from advisor.scaling.segmentation import Interval


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


@pytest.fixture
def curves_prior() -> Prior:
    """A prior with fitted-looking curves acc = c - a / P^phi: deeper nets have higher
    asymptotes, shallower ones win at small sizes (as in the study)."""
    intervals = [
        Interval(0, 2500, 4),
        Interval(2500, 10_000, 5),
        Interval(10_000, 1_000_000, 7),
        Interval(1_000_000, math.inf, 9),
    ]
    curves = {
        n: Curve(
            n,
            a=30.0 * n**3,
            phi=0.5 + 0.01 * n,
            c=80.0 + 2.0 * n,
            std=0.8,
            params_low=1e4,
            params_high=1e7,
            n_points=40,
            source="test",
        )
        for n in range(4, 10)
    }
    return Prior(
        "test-curves",
        "test",
        {"dataset": "CIFAR-10", "resolution": 160, "epochs": 110},
        intervals,
        curves,
    )
