"""The project's measured CIFAR-10 prior ships as numbers plus a regime label, and loads."""

import csv
import json

import pytest

from advisor.scaling.prior import available_priors, load_prior

NAME = "cifar10-32px-3ep-partial"


@pytest.fixture(scope="module")
def shipped():
    paths = available_priors()
    if NAME not in paths:
        pytest.fail(f"{NAME}.json is missing from advisor/scaling/priors")
    label = json.loads(paths[NAME].read_text())
    rows = list(csv.DictReader((paths[NAME].parent / label["results_file"]).open()))
    return label, rows


def test_the_results_file_holds_only_finished_measured_runs_of_one_regime(shipped):
    label, rows = shipped
    assert label["regime"]["runs"] == len(rows) >= 36
    assert {(r["dataset"], r["resolution"], r["epochs"]) for r in rows} == {("cifar10", "32", "3")}
    assert {r["source"] for r in rows} == {"measured: training run"}
    assert len({r["run_id"] for r in rows}) == len(rows)
    assert all(0 < float(r["accuracy"]) < 100 and int(r["params"]) > 0 for r in rows)
    counts = {n: sum(r["num_layers"] == str(n) for r in rows) for n in range(4, 10)}
    assert label["regime"]["runs_per_n"] == {str(n): c for n, c in counts.items()}


def test_it_loads_labelled_partial_and_is_not_the_default(shipped):
    _, rows = shipped
    prior = load_prior(NAME)
    assert prior.regime["partial"] is True
    assert (prior.regime["dataset"], prior.regime["resolution"], prior.regime["epochs"]) == (
        "cifar10",
        32,
        3,
    )
    # every N's generalized hyperbolic fit fails on 3-epoch data: the prior is the raw segmentation
    assert not prior.has_curves and {iv.n for iv in prior.intervals} <= set(range(4, 10))
    assert prior.intervals[0].low == pytest.approx(min(float(r["params"]) for r in rows))
    assert prior.regime_mismatch(resolution=160, epochs=110)
    assert load_prior().name != NAME
