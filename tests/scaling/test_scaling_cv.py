import numpy as np
import pytest
from test_scaling_models import TRUE

from advisor.errors import AdvisorError
from advisor.scaling import MODELS, cross_validate, from_rows


def table_from(model, seed=0, per_n=40):
    rng = np.random.default_rng(seed)
    rows = []
    for n in (5, 7):
        for params in 10 ** rng.uniform(4, 6.5, per_n):
            accuracy = TRUE[model][0](params) + (n - 5) + rng.normal(0, 0.5)
            rows.append(
                dict(
                    alpha=1,
                    beta=1,
                    t0=6,
                    N=n,
                    resolution=160,
                    dataset="CIFAR-10",
                    epochs=110,
                    params=params,
                    accuracy=accuracy,
                    source="synthetic",
                )
            )
    return from_rows(rows, f"synthetic {model}")


@pytest.mark.slow  # cross-validates all five models on each true curve (about 12 s)
@pytest.mark.parametrize("model", list(MODELS))
def test_cross_validation_ranks_the_true_model_first(model):
    result = cross_validate(table_from(model), folds=30, seed=1)
    assert result.ranking()[0] == model
    best = result.models[model]
    assert best.mean() < 0.7  # noise 0.5
    assert sum(best.failed_by_n().values()) == 0


def test_same_seed_same_folds_and_json_shape():
    table = table_from("generalized_hyperbolic")
    first = cross_validate(table, folds=5, seed=7).to_dict()
    assert first == cross_validate(table, folds=5, seed=7).to_dict()
    assert set(first["models"]) == set(MODELS)
    entry = first["models"]["generalized_hyperbolic"]
    assert set(entry["rmse_by_n"]) == {"5", "7"}
    assert entry["rmse_mean"] == pytest.approx(np.mean(list(entry["rmse_by_n"].values())))
    assert entry["failed_folds_by_n"] == {"5": 0, "7": 0}
    hyperbolic = first["models"]["hyperbolic"]  # at the limit b -> 0 on this data: still a fit
    assert hyperbolic["failed_folds_by_n"] == {"5": 0, "7": 0}
    assert hyperbolic["rmse_mean"] > entry["rmse_mean"]


def test_too_few_networks_per_n_is_refused():
    table = table_from("generalized_hyperbolic", per_n=6)
    with pytest.raises(AdvisorError, match="N=5 has 6 networks"):
        cross_validate(table, folds=3)
