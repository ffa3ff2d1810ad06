"""Refit the latency model on the published measurements and measure how well it predicts
what it was not fitted on; write advisor/latency/coefficients.json.

    python bench/fit_latency_model.py [--data ../shared/data/latency] [--dry-run]

Prints, per engine: the rows, the in-sample error, and the leave-one-out error by board
(every row of one board held out: what a board the model never saw gets) and by model
(every row of one network held out: what a new network gets), as the median and worst
|predicted / measured - 1| over model-level rows (the RP2040's per-layer rows are fitted,
its 823.7 ms total is what is scored). Compared on the same folds with two single-number
models: today's (one MACs/cycle per core family, any engine, any network) and one
MACs/cycle per (core, engine). Takes about a minute on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.latency.fit import PRIOR_SD, fit  # noqa: E402
from advisor.latency.model import COEFFICIENTS_PATH, ENGINES, pair_parameters  # noqa: E402
from advisor.latency.ops import CLASSES  # noqa: E402
from advisor.latency.published import Row, load_rows  # noqa: E402

PICO_TOTAL_MS = 823.658  # pico_bench.txt: NoPersonDataIterations(1) took 823658 ticks


def predict_ms(coefficients: dict, row: Row) -> float | None:
    """The model's latency for `row`, or None when its core or engine is not in the fit."""
    if row.core not in coefficients["core"] or row.engine not in coefficients["engine"]:
        return None
    per_unit, overhead = pair_parameters(coefficients, row.core, row.engine)
    cycles = float(np.dot(row.workload.work, per_unit) + row.workload.ops * overhead)
    return cycles / row.clock_hz * 1000.0


def scored_rows(rows: list[Row], data_dir: Path) -> list[Row]:
    """Model-level rows: the MLPerf, ESP32-S3 and XNNPACK rows, and the RP2040 total in
    place of its layers."""
    out = [r for r in rows if not r.workload.name.startswith("pd.")]
    layer = next(r for r in rows if r.workload.name.startswith("pd."))
    from advisor.latency.published import WORKLOAD_FILES, tflite_workload

    workload, _ = tflite_workload(data_dir / "models" / WORKLOAD_FILES["pd"], "pd")
    total = dataclasses.replace(
        layer,
        workload=workload,
        latency_ms=PICO_TOTAL_MS,
        source="raspberrypi/pico-tflmicro benchmark_results.txt, single core total",
    )
    return [*out, total]


def single_number(train: list[Row], row: Row, per_engine: bool) -> float | None:
    """Latency from the geometric-mean MACs/cycle of the training rows on the row's core
    (and engine, falling back to the core), as a profile's macs_per_cycle does today."""

    def rate(rows):
        values = [r.workload.macs / (r.latency_ms / 1000 * r.clock_hz) for r in rows]
        return float(np.exp(np.mean(np.log(values)))) if values else None

    same_core = [r for r in train if r.core == row.core]
    eta = rate([r for r in same_core if r.engine == row.engine]) if per_engine else None
    eta = eta or rate(same_core)
    return None if eta is None else row.workload.macs / (row.clock_hz * eta) * 1000.0


def errors(pairs: list[tuple[Row, float | None]]) -> dict[str, dict]:
    by_engine: dict[str, list[float]] = defaultdict(list)
    missing: dict[str, int] = defaultdict(int)
    for row, predicted in pairs:
        if predicted is None:
            missing[row.engine] += 1
        else:
            by_engine[row.engine].append(abs(predicted / row.latency_ms - 1))
    out = {}
    for engine in sorted(set(by_engine) | set(missing)):
        values = by_engine.get(engine, [])
        out[engine] = {
            "rows": len(values),
            "unpredictable": missing.get(engine, 0),
            "median": round(float(np.median(values)), 4) if values else None,
            "worst": round(float(np.max(values)), 4) if values else None,
        }
    return out


def leave_one_out(rows, scored, key) -> tuple[dict, dict, dict]:
    """(model, per-core baseline, per-pair baseline) errors, holding out each `key` value."""
    model, core_only, pair = [], [], []
    for held in sorted({key(r) for r in scored}):
        train = [r for r in rows if key(r) != held]
        train_scored = [r for r in scored if key(r) != held]
        coefficients = fit(train)
        for row in (r for r in scored if key(r) == held):
            model.append((row, predict_ms(coefficients, row)))
            core_only.append((row, single_number(train_scored, row, per_engine=False)))
            pair.append((row, single_number(train_scored, row, per_engine=True)))
    return errors(model), errors(core_only), errors(pair)


def row_record(r, coefficients) -> dict:
    """One published row as stored beside the coefficients, with the model's prediction."""
    return {
        "board": r.board,
        "core": r.core,
        "engine": r.engine,
        "clock_hz": r.clock_hz,
        "model": r.model,
        "workload": r.workload.name,
        "work": list(r.workload.work),
        "ops": r.workload.ops,
        "macs": r.workload.macs,
        "latency_ms": r.latency_ms,
        "predicted_ms": round(predict_ms(coefficients, r), 4),
        "source": r.source,
    }


def main() -> int:
    rows = load_rows(ARGS.data)
    scored = scored_rows(rows, Path(ARGS.data))
    coefficients = fit(rows)
    if not coefficients["converged"]:
        print("warning: the fit did not converge", file=sys.stderr)
    in_sample = errors([(r, predict_ms(coefficients, r)) for r in scored])
    by_board = leave_one_out(rows, scored, key=lambda r: r.board)
    by_model = leave_one_out(rows, scored, key=lambda r: r.model)

    def fmt(e):
        if e is None or e["median"] is None:
            return "   -   "
        return f"{100 * e['median']:4.0f}/{100 * e['worst']:<4.0f}"

    print("median/worst |predicted/measured - 1| in %, model-level rows")
    header = f"{'engine':18s} {'rows':>4s} {'in-sample':>10s} | {'LOO by board':^30s} |"
    print(header + f" {'LOO by model':^30s}")
    print(
        f"{'':18s} {'':4s} {'model':>10s} | {'model':>9s} {'1/core':>9s} {'1/pair':>9s} |"
        + f" {'model':>9s} {'1/core':>9s} {'1/pair':>9s}"
    )
    for engine in sorted(in_sample):
        cells = [fmt(in_sample[engine])]
        cells += [fmt(part.get(engine)) for part in by_board]
        cells += [fmt(part.get(engine)) for part in by_model]
        print(
            f"{engine:18s} {in_sample[engine]['rows']:4d} {cells[0]:>10s} | "
            + " ".join(f"{c:>9s}" for c in cells[1:4])
            + " | "
            + " ".join(f"{c:>9s}" for c in cells[4:])
        )
    print(
        "1/core: one MACs/cycle per core family (today's profiles); 1/pair: one per "
        "(core, engine). '-': no prediction possible (the held-out rows were the only "
        "ones of their core or engine)."
    )
    print("\nprofiles far off before (old macs_per_cycle) vs the model, on the published rows:")
    for board, old_eta, old_clock in (("RP2040", 0.02, 133e6), ("ESP32-S3", 0.2, 240e6)):
        for row in (r for r in scored if board in r.board):
            old = row.workload.macs / (old_clock * old_eta) * 1000
            print(
                f"  {row.board} {row.engine} {row.workload.name}: measured "
                f"{row.latency_ms:.0f} ms; old profile ({old_eta} MACs/cycle) {old:.0f} ms; "
                f"model {predict_ms(coefficients, row):.0f} ms (in-sample)"
            )
    summary = {}
    for engine in in_sample:
        board_e, model_e = by_board[0].get(engine, {}), by_model[0].get(engine, {})
        # With no held-out check (one network, one board) the error is unknown, not the
        # in-sample error of a model that can fit its few rows.
        checks = [e.get("median") for e in (model_e, board_e) if e.get("median") is not None]
        typical = (
            None if not checks else max(in_sample[engine]["median"], model_e.get("median") or 0)
        )
        summary[engine] = {
            "fit": in_sample[engine],
            "loo_board": board_e,
            "loo_model": model_e,
            "loo_board_single_number_per_core": by_board[1].get(engine, {}),
            "loo_model_single_number_per_core": by_model[1].get(engine, {}),
            # what a calibrated pair gets on a new network / what a new board gets
            "typical": None if typical is None else round(typical, 3),
            "extrapolated": None
            if board_e.get("median") is None
            else round(max(board_e["median"], typical or 0), 3),
        }
    for engine in ENGINES:
        if engine not in summary:
            raise SystemExit(f"engine {engine} has no calibration row")
    data = {
        "about": "Latency model coefficients, fitted by bench/fit_latency_model.py on "
        "published measurements; do not edit by hand. See advisor/latency/fit.py for the "
        "model and prior.",
        "fitted": datetime.date.today().isoformat(),
        "classes": list(CLASSES),
        "prior_sd": PRIOR_SD,
        "coefficients": coefficients,
        "errors": summary,
        "rows": [row_record(r, coefficients) | {"note": r.note} for r in rows],
        "scored_extra": [
            row_record(r, coefficients) for r in scored if r.source.endswith("single core total")
        ],
    }
    if ARGS.dry_run:
        print("dry run: nothing written")
    else:
        COEFFICIENTS_PATH.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {COEFFICIENTS_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "latency"))
    parser.add_argument("--dry-run", action="store_true")
    ARGS = parser.parse_args()
    sys.exit(main())
