"""The study's figures, written as PNG and SVG (matplotlib, Agg backend, imported here only).

2.2  accuracy_vs_params      accuracy vs parameters, linear and log axes
2.3  accuracy_by_n           the same, coloured by N
4.1  fit_<model>             each of the five regressions, one curve per N (b-f)
4.2  segmentation_raw, segmentation_smoothed, segmentation_fit   best N per budget (a-c)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from advisor.scaling import segmentation
from advisor.scaling.models import MODELS, fit_curve
from advisor.scaling.results import ResultsTable

ACCURACY_LABEL = "test top-1 accuracy (%)"
PARAMS_LABEL = "parameters (count; int8: bytes of FLASH)"
BUDGET_LABEL = "parameter budget (count)"


def write_figures(table: ResultsTable, out_dir: str | Path) -> list[Path]:
    """Write every figure into out_dir; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    colours = _colours(table.n_values(), plt)
    written: list[Path] = []

    def save(figure, stem: str) -> None:
        figure.tight_layout()
        for suffix in (".png", ".svg"):
            path = out / f"{stem}{suffix}"
            figure.savefig(path, dpi=130)
            written.append(path)
        plt.close(figure)

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, scale in zip(axes, ("linear", "log")):
        ax.scatter(table.params, table.accuracy, s=12, color="tab:blue")
        ax.set_xscale(scale)
        ax.set(
            xlabel=PARAMS_LABEL,
            ylabel=ACCURACY_LABEL,
            title=f"accuracy vs parameters ({scale} axis)",
        )
        ax.grid(alpha=0.3)
    save(figure, "accuracy_vs_params")

    figure, ax = plt.subplots(figsize=(7.5, 4.8))
    for n, (params, accuracy) in table.by_n().items():
        ax.scatter(params, accuracy, s=14, color=colours[n], label=f"N = {n}")
    _finish(ax, "accuracy vs parameters by number of layers N")
    save(figure, "accuracy_by_n")

    grid = np.logspace(np.log10(table.params.min()), np.log10(table.params.max()), 300)
    fits_by_model = {}
    for name, model in MODELS.items():
        figure, ax = plt.subplots(figsize=(7.5, 4.8))
        fits = {}
        for n, (params, accuracy) in table.by_n().items():
            ax.scatter(params, accuracy, s=10, color=colours[n], alpha=0.6)
            fit = fit_curve(name, params, accuracy)
            fits[n] = fit
            if fit.ok:
                ax.plot(grid, fit.predict(grid), color=colours[n], label=f"N = {n}")
            else:
                ax.plot([], [], color=colours[n], linestyle=":", label=f"N = {n}: fit failed")
        fits_by_model[name] = fits
        _finish(ax, f"{name.replace('_', ' ')}: {model.formula}")
        low, high = np.percentile(table.accuracy, [0, 100])
        ax.set_ylim(low - 5, min(100, high + 5))
        save(figure, f"fit_{name}")

    raw = segmentation.segment_raw(table)
    fit_intervals = segmentation.smooth(
        segmentation.segment_fits(
            fits_by_model["generalized_hyperbolic"], table.params.min(), table.params.max()
        )
    )
    for stem, intervals, title in (
        ("segmentation_raw", raw, "best N per budget from raw data (unsmoothed)"),
        (
            "segmentation_smoothed",
            segmentation.smooth(raw),
            f"best N per budget from raw data, intervals < {segmentation.MIN_WIDTH_DECADES} "
            "decades dropped",
        ),
        (
            "segmentation_fit",
            fit_intervals,
            "best N per budget from generalized hyperbolic fits (smoothed)",
        ),
    ):
        figure, ax = plt.subplots(figsize=(7.5, 3.6))
        for interval in intervals:
            ax.hlines(
                interval.n,
                interval.low,
                interval.high,
                colors=colours.get(interval.n, "k"),
                linewidth=6,
            )
        ax.set_xscale("log")
        ax.set_yticks(table.n_values())
        ax.set(xlabel=BUDGET_LABEL, ylabel="best N (layers)", title=title)
        ax.grid(alpha=0.3)
        save(figure, stem)
    return written


def _colours(ns: list[int], plt) -> dict[int, tuple]:
    cmap = plt.get_cmap("viridis")
    return {n: cmap(i / max(1, len(ns) - 1)) for i, n in enumerate(ns)}


def _finish(ax, title: str) -> None:
    ax.set_xscale("log")
    ax.set(xlabel=PARAMS_LABEL, ylabel=ACCURACY_LABEL, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
