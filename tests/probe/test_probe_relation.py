import numpy as np

from advisor.probe.relation import MIN_MODELS, shape_correlations


def _models(count, seed, linked):
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(60, 90, count)
    area = accuracy / 100 + 0.01 * rng.normal(size=count) if linked else rng.uniform(0, 1, count)
    return [
        {
            "normalized_area": a,
            "plateau_depth": float(rng.uniform()),
            "monotone": bool(i % 2),
            "loss_drop": float(rng.uniform()),
            "accuracy": float(acc),
            "num_layers": 4 + i % 6,
            "params": float(rng.uniform(1e4, 1e6)),
        }
        for i, (a, acc) in enumerate(zip(area, accuracy))
    ]


def _find(results, metric, target):
    return next(r for r in results if (r.metric, r.target) == (metric, target))


def test_a_planted_link_is_found_and_noise_is_not():
    linked = _find(shape_correlations(_models(30, 0, linked=True)), "normalized_area", "accuracy")
    assert linked.n == 30 and linked.rho > 0.9 and linked.verdict.startswith("link")
    unlinked = _find(
        shape_correlations(_models(30, 0, linked=False)), "normalized_area", "accuracy"
    )
    assert abs(unlinked.rho) < 0.5 and unlinked.verdict == "no clear link"


def test_too_few_models_says_so_and_reports_no_number():
    results = shape_correlations(_models(MIN_MODELS - 1, 1, linked=True))
    assert len(results) == 12
    assert all(r.rho is None and r.verdict.startswith("too few models") for r in results)


def test_missing_values_are_dropped_pairwise():
    models = _models(12, 2, linked=True)
    models[0]["normalized_area"] = float("nan")
    models[1]["accuracy"] = None
    assert _find(shape_correlations(models), "normalized_area", "accuracy").n == 10
    assert _find(shape_correlations(models), "plateau_depth", "num_layers").n == 12
