import csv
import json
import shutil

import numpy as np
import pytest
from scaling_synthetic import (
    TRUE_CROSSOVERS,
    TRUE_CURVES,
    generalized_hyperbolic,
    synthetic_rows,
    synthetic_table,
)

from advisor.errors import AdvisorError
from advisor.provenance import SCALING_LAW
from advisor.scaling import fit_prior, load_prior
from advisor.scaling import prior as prior_module


@pytest.fixture(scope="module")
def fitted():
    return fit_prior(synthetic_table(seed=2), "synthetic-160", folds=20)


def test_published_prior_is_the_study_rule_with_provenance():
    prior = load_prior("study-published")
    assert [prior.best_n(p) for p in (1e3, 5e3, 1e5, 5e6)] == [4, 5, 7, 9]
    assert prior.best_n(2499) == 4 and prior.best_n(2500) == 5
    assert prior.predict(7, 1e5) is None  # a published rule never invents accuracy
    assert not prior.has_curves and prior.candidate_ns == [4, 5, 7, 9]
    assert prior.regime["resolution"] == 160 and prior.regime["epochs"] == 110
    assert {k: v["value"] for k, v in prior.cv_rmse.items()} == {
        "hyperbolic": 0.807,
        "generalized_hyperbolic": 0.758,
    }
    assert all(v["source"] for v in prior.cv_rmse.values())
    assert len(prior.interval_sources) == 4 and all(prior.interval_sources)
    assert "study" in prior.source


def test_regime_mismatch_warns_and_carries_the_caveat():
    prior = load_prior("study-published")
    assert prior.regime_mismatch("cifar10", 160, 105) == []  # same dataset, 105 ~ 110 epochs
    warnings = prior.regime_mismatch(dataset="CIFAR-10", resolution=32, epochs=15)
    assert any("160x160" in w and "32x32" in w for w in warnings)
    assert any("110 epochs" in w for w in warnings)
    assert any("quick check on CIFAR-10 at 32x32" in w for w in warnings)
    assert any("CIFAR-100" in w for w in prior.regime_mismatch(dataset="CIFAR-100"))


def test_best_n_rejects_nonsense_budgets():
    with pytest.raises(AdvisorError, match="positive parameter budget"):
        load_prior("study-published").best_n(-5)


def test_fitted_prior_recovers_curves_crossovers_and_uncertainty(fitted):
    assert fitted.has_curves and fitted.candidate_ns == [4, 5, 7, 9]
    assert [fitted.best_n(p) for p in (1e3, 5e3, 1e5, 5e6)] == [4, 5, 7, 9]
    for found, true in zip([iv.high for iv in fitted.intervals[:-1]], TRUE_CROSSOVERS):
        assert abs(np.log10(found / true)) < 0.15
    prediction = fitted.predict(7, 1e5)
    truth = generalized_hyperbolic(1e5, *TRUE_CURVES[7])
    assert prediction.accuracy == pytest.approx(truth, abs=0.5)
    assert 0.3 < prediction.std < 0.8  # the noise is 0.5
    assert prediction.source.startswith(f"{SCALING_LAW}: synthetic-160")
    assert not prediction.extrapolated
    far = fitted.predict(4, np.array([1e4, 1e8]))
    assert list(far.extrapolated) == [False, True] and "extrapolated" in far.source
    assert fitted.predict(6, 1e5) is None  # no networks of N = 6


def test_save_and_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "p.json")
    loaded = load_prior(str(path))
    assert loaded.intervals == fitted.intervals and loaded.curves == fitted.curves
    assert loaded.regime == fitted.regime and loaded.source == fitted.source
    assert loaded.predict(5, 3e4) == fitted.predict(5, 3e4)


def test_results_file_is_fitted_on_load(tmp_path):
    rows = synthetic_rows(seed=4, resolution=32, epochs=10)
    path = tmp_path / "quick.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    prior = load_prior(str(path))
    assert prior.name == "quick" and prior.has_curves
    assert prior.regime == {"dataset": "CIFAR-10", "resolution": 32, "epochs": 10}
    assert str(path) in prior.source


def test_default_prefers_a_shipped_measured_prior(tmp_path, monkeypatch):
    shipped = prior_module.priors_dir()
    for name in ("study-published.json", "phinet-published.json", "phinet-published.csv"):
        shutil.copy(shipped / name, tmp_path)  # the study's rule takes accuracy from the cards
    monkeypatch.setattr(prior_module, "priors_dir", lambda: tmp_path)
    assert load_prior().name == "study-published"
    rows = synthetic_rows(seed=4, resolution=32, epochs=10)
    (tmp_path / "quick.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "cifar10-32px.json").write_text(
        json.dumps(
            {
                "format": prior_module.FORMAT,
                "name": "cifar10-32px",
                "kind": "measured",
                "source": "Project sweep (test).",
                "results": "quick.jsonl",
                "regime": {"dataset": "CIFAR-10", "resolution": 32, "epochs": 10},
            }
        )
    )
    default = load_prior()
    assert default.name == "cifar10-32px" and default.has_curves
    assert default.source.startswith("Project sweep (test).")
    assert default.regime_mismatch(resolution=160)


def test_bad_priors_and_names_are_refused(tmp_path):
    with pytest.raises(AdvisorError, match="Shipped priors: .*study-published"):
        load_prior("no-such-prior")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"format": prior_module.FORMAT, "name": "x", "source": "s", "regime": {}})
    )
    with pytest.raises(AdvisorError, match="neither 'intervals' nor 'results'"):
        load_prior(str(bad))
    with pytest.raises(AdvisorError, match="regime says resolution = 160"):
        fit_prior(synthetic_table(resolution=32), "x", {"resolution": 160}, folds=2)
