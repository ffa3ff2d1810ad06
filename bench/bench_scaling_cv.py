"""Benchmark: the study's cross-validation, 5 models x 6 N x 500 folds on 270 synthetic
networks (45 per N), on one core. Goal: < 30 s.

Baselines, in the same run, timed on a subset of the folds and reported per fit:
- scipy.optimize.curve_fit with its defaults (Levenberg-Marquardt, finite-difference
  Jacobian, p0 = ones, no bounds) on the same scaled models and folds;
- advisor's own fit without warm starts (data-driven starts, 3 restarts per fold).

    python bench/bench_scaling_cv.py [--folds 500] [--baseline-folds 20]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import OptimizeWarning, curve_fit  # noqa: E402

from advisor.scaling import MODELS, cross_validate, fit_curve, from_rows  # noqa: E402
from advisor.scaling.cv import TRAIN_FRACTION, split_indices  # noqa: E402

GOAL_S = 30.0
# acc = c - a / P^phi per N (synthetic, shaped like the study's CIFAR-10 curves)
CURVES = {
    4: (400, 0.45, 72),
    5: (800, 0.47, 80),
    6: (1200, 0.48, 85),
    7: (1800, 0.5, 88),
    8: (3500, 0.52, 90),
    9: (6000, 0.55, 92),
}


def synthetic_table(per_n: int = 45, noise: float = 0.8, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for n, (a, phi, c) in CURVES.items():
        for params in 10 ** rng.uniform(4, 7, per_n):
            accuracy = c - a * params**-phi + rng.normal(0, noise)
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
    return from_rows(rows, "synthetic")


def baseline(table, folds: int, seed: int):
    """curve_fit defaults on the same folds; returns (wall seconds, fits, failed fits)."""
    rng = np.random.default_rng(seed)
    fits = failed = 0
    start = time.perf_counter()
    for params, accuracy in table.by_n().values():
        p_ref = float(np.exp(np.mean(np.log(params))))
        x = params / p_ref
        n_train = round(TRAIN_FRACTION * len(x))
        for order in split_indices(len(x), folds, rng):
            train = order[:n_train]
            for model in MODELS.values():
                fits += 1

                def function(x, *theta, model=model):
                    return model.value(np.array(theta), x)

                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore", OptimizeWarning)
                        theta, _ = curve_fit(
                            function, x[train], accuracy[train], p0=np.ones(len(model.theta_names))
                        )
                    if not np.all(np.isfinite(model.value(theta, x[order[n_train:]]))):
                        failed += 1
                except (RuntimeError, ValueError):
                    failed += 1
    return time.perf_counter() - start, fits, failed


def cold_fits(table, folds: int, seed: int):
    """advisor.scaling.fit_curve from data-driven starts on every fold; (fits, failed)."""
    rng = np.random.default_rng(seed)
    fits = failed = 0
    for params, accuracy in table.by_n().values():
        n_train = round(TRAIN_FRACTION * len(params))
        for order in split_indices(len(params), folds, rng):
            train = order[:n_train]
            for name in MODELS:
                fits += 1
                failed += not fit_curve(name, params[train], accuracy[train]).ok
    return fits, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=500)
    parser.add_argument("--baseline-folds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = synthetic_table()

    start, cpu_start = time.perf_counter(), time.process_time()
    result = cross_validate(table, folds=args.folds, seed=args.seed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    fits = len(MODELS) * len(table.n_values()) * args.folds
    failed = sum(sum(cv.failed_by_n().values()) for cv in result.models.values())
    print(
        f"advisor.scaling.cross_validate: {len(table)} points, {len(MODELS)} models x "
        f"{len(table.n_values())} N x {args.folds} folds = {fits} fits"
    )
    print(
        f"  wall {seconds:.2f} s, CPU {cpu:.2f} s (goal < {GOAL_S:.0f} s on one core: "
        f"{'met' if cpu < GOAL_S else 'MISSED'}; wall > CPU means other processes shared "
        f"the core), {cpu / fits * 1e3:.3f} ms CPU per fit, {failed} failed folds"
    )
    for name in result.ranking():
        cv = result.models[name]
        print(
            f"  {name:24s} mean RMSE {cv.mean():.3f} %  failed folds "
            f"{sum(cv.failed_by_n().values())}"
        )

    cpu_start = time.process_time()
    _, base_fits, base_failed = baseline(table, args.baseline_folds, args.seed)
    base_s = time.process_time() - cpu_start
    print(
        f"baseline curve_fit defaults: {base_fits} fits in {base_s:.2f} s CPU, "
        f"{base_s / base_fits * 1e3:.3f} ms per fit, {base_failed} failed or unusable"
    )
    print(
        f"  per-fit speed-up of cross_validate over the baseline: "
        f"{(base_s / base_fits) / (cpu / fits):.2f}x; the baseline at {args.folds} folds "
        f"would take about {base_s / base_fits * fits:.1f} s"
    )

    cpu_start = time.process_time()
    cold_count, cold_failed = cold_fits(table, args.baseline_folds, args.seed)
    cold_s = time.process_time() - cpu_start
    print(
        f"baseline fits without warm starts: {cold_count} fits in {cold_s:.2f} s CPU, "
        f"{cold_s / cold_count * 1e3:.3f} ms per fit, {cold_failed} failed"
    )
    print(
        f"  per-fit speed-up of warm starts: {(cold_s / cold_count) / (cpu / fits):.2f}x; "
        f"at {args.folds} folds about {cold_s / cold_count * fits:.1f} s"
    )


if __name__ == "__main__":
    main()
