"""The shipped literature prior: its rows reproduce their sources, its N=7 curve and interval
are what the published points give, and it combines only within its regime."""

import csv
import json

import numpy as np
import pytest

from advisor.config import PhiNetConfig
from advisor.cost import estimate
from advisor.errors import AdvisorError
from advisor.scaling import load_prior, load_results
from advisor.scaling import prior as prior_module
from advisor.scaling.literature import (
    MIN_POINTS,
    fit_literature_curves,
    leave_one_out_errors,
    rows_of_regime,
)
from advisor.scaling.results import from_rows

STUDY_CV_RMSE = 0.758
# micromind's model cards (huggingface.co/micromind/CIFAR-10, /CIFAR-100, /MNIST), typed from
# the cards (and the torchinfo counts quoted with them in shared/docs/PHINET.md): (alpha, beta, t0, N) -> top-1 %; CIFAR-10 with torchinfo params
CIFAR10 = {
    (0.25, 1, 5, 7): (83.01, "39.1k"),
    (0.25, 1, 6, 7): (84.97, "49.8k"),
    (0.35, 1, 6, 7): (88.08, "88.9k"),
    (0.75, 1, 6, 5): (86.8, "107.5k"),
    (3, 0.75, 6, 7): (93.61, "4.39M"),
}
CIFAR100 = {
    (3, 0.75, 6, 7): 75.56,
    (0.75, 1, 6, 5): 60.87,
    (0.35, 1, 6, 7): 59.77,
    (0.25, 1, 6, 7): 54.16,
    (0.25, 1, 5, 7): 52.41,
}
MNIST = {
    (0.5, 1, 6, 4): 98.96,
    (0.75, 1, 6, 5): 99.03,
    (0.35, 1, 6, 7): 98.72,
    (0.25, 1, 6, 7): 98.84,
    (0.25, 1, 5, 7): 98.76,
}


@pytest.fixture(scope="module")
def shipped():
    folder = prior_module.priors_dir()
    label = json.loads((folder / "phinet-published.json").read_text())
    path = folder / label["results_file"]
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return label, path, rows


def _key(row):
    return (float(row["alpha"]), float(row["beta"]), float(row["t0"]), int(row["num_layers"]))


def _count(text: str) -> tuple[float, float]:
    """'39.1k' -> (39100, 50): the count and half its last printed digit."""
    scale = {"k": 1e3, "M": 1e6}[text[-1]]
    digits = text[:-1]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return float(digits) * scale, 0.5 * scale * 10**-decimals


def test_rows_reproduce_the_model_cards(shipped):
    _, _, rows = shipped
    by_dataset = {"CIFAR-10": {}, "CIFAR-100": {}, "MNIST": {}}
    for row in rows:
        by_dataset[row["dataset"]][_key(row)] = float(row["accuracy"])
        assert row["source"].startswith("literature: micromind model card https://")
    assert by_dataset["CIFAR-10"] == {k: acc for k, (acc, _) in CIFAR10.items()}
    assert by_dataset["CIFAR-100"] == CIFAR100
    assert by_dataset["MNIST"] == MNIST


def test_parameter_counts_are_the_cost_models_and_equal_the_cards(shipped):
    _, _, rows = shipped
    for row in rows:
        config = PhiNetConfig(
            alpha=float(row["alpha"]),
            beta=float(row["beta"]),
            t0=float(row["t0"]),
            num_layers=int(row["num_layers"]),
            resolution=int(row["resolution"]),
            in_channels=int(row["in_channels"]),
            num_classes=int(row["num_classes"]),
        )
        assert estimate(config).params == int(row["params"]), row
        if row["dataset"] == "CIFAR-10":
            count, half_digit = _count(CIFAR10[_key(row)][1])
            assert row["reference_params"] == CIFAR10[_key(row)][1]
            assert abs(int(row["params"]) - count) <= half_digit, row


def test_the_n7_fit_and_its_interval_on_the_published_points(shipped):
    label, path, _ = shipped
    table = rows_of_regime(load_results(path), label["regime"])
    assert len(table) == 5  # CIFAR-10 at 160x160: four N=7 networks and one N=5
    curves, skipped = fit_literature_curves(table, STUDY_CV_RMSE, "micromind CIFAR-10 model card")
    assert set(curves) == {7} and any(s.startswith("N=5: 1 published") for s in skipped)
    curve = curves[7]
    stored = label["curves"]["7"]
    for name in ("a", "phi", "c", "std", "params_low", "params_high", "n_points"):
        assert stored[name] == pytest.approx(curve[name], rel=1e-6), name
    assert stored["source"] == curve["source"]
    # the four points, one residual degree of freedom: a close fit, a wider leave-one-out
    params, accuracy = table.by_n()[7]
    errors = leave_one_out_errors(params, accuracy)
    assert np.isfinite(errors).all()
    assert curve["loo_rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert curve["fit_rmse"] < 0.2 < STUDY_CV_RMSE < curve["loo_rmse"] < 1.5
    assert curve["std"] == curve["loo_rmse"]
    assert abs(errors[-1]) == max(abs(errors))  # the 4.4 M network, predicted from small ones
    prior = load_prior("phinet-published")
    prediction = prior.predict_accuracy(7, 88_901)
    assert prediction.accuracy == pytest.approx(88.08, abs=0.2)
    assert prediction.std == pytest.approx(curve["loo_rmse"])
    assert prediction.source.startswith("predicted: literature prior (phinet-published")
    assert prior.predict_accuracy(5, 107_461) is None  # one published N=5 network: no curve
    assert prior.predict(7, 88_901) is None  # literature curves never steer the N rule
    assert not prior.has_curves and prior.candidate_ns == [4, 5, 7, 9]


def test_the_interval_is_never_narrower_than_the_studys_cv_rmse():
    params = np.array([2e4, 5e4, 1e5, 4e5, 2e6])
    exact = 94.0 - 3.5e4 * params**-0.76  # points exactly on a curve: leave-one-out ~ 0
    rows = [
        {"alpha": 1, "beta": 1, "t0": 6, "N": 7, "resolution": 160, "dataset": "x"}
        | {"epochs": 100, "params": p, "accuracy": a, "source": "test"}
        for p, a in zip(params, exact)
    ]
    curves, _ = fit_literature_curves(from_rows(rows), STUDY_CV_RMSE, "test")
    assert curves[7]["loo_rmse"] < 0.01 and curves[7]["std"] == STUDY_CV_RMSE
    few, skipped = fit_literature_curves(from_rows(rows[: MIN_POINTS - 1]), STUDY_CV_RMSE, "t")
    assert few == {} and f"a curve needs {MIN_POINTS}" in skipped[0]


def test_the_default_prior_says_which_part_comes_from_where():
    prior = load_prior()
    assert prior.name == "study-published" and prior.accuracy_from == "phinet-published"
    assert not prior.has_curves and set(prior.accuracy_curves) == {7}
    parts = {part["part"]: part for part in prior.parts}
    assert parts["N rule (best N per parameter budget)"]["from"] == "study-published"
    assert parts["accuracy N=7"]["from"] == "phinet-published"
    assert parts["accuracy N=7"]["source"].startswith("literature: ")
    assert all(parts[f"accuracy N={n}"]["from"] is None for n in (4, 5, 9))
    assert prior.predict_accuracy(7, 86_619).accuracy == pytest.approx(88.0, abs=0.1)
    assert prior.predict_accuracy(9, 300_000) is None


def test_no_prediction_outside_the_regime():
    prior = load_prior()
    assert prior.not_covered("cifar10", 160) is None and prior.not_covered(None, 160) is None
    assert "32x32" in prior.not_covered(None, 32) and "160x160" in prior.not_covered(None, 32)
    assert "CIFAR-100" in prior.not_covered("CIFAR-100", 160)


def test_priors_combine_only_within_one_regime(tmp_path):
    label = json.loads((prior_module.priors_dir() / "study-published.json").read_text())
    label["regime"] = {**label["regime"], "resolution": 32}
    path = tmp_path / "other.json"
    path.write_text(json.dumps(label))
    with pytest.raises(AdvisorError, match="combine only within one regime"):
        load_prior(str(path))
