"""Rich tables of probe results for people (the JSON is each result's to_dict())."""

from __future__ import annotations

from rich.table import Table

from advisor.probe.blocks import PROBE_SOURCE, ProbeReport
from advisor.probe.curve import MONOTONE_TOLERANCE
from advisor.probe.relation import MIN_MODELS
from advisor.probe.sweep import SweepProbe


def _number(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def block_table(report: ProbeReport, title: str) -> Table:
    shape = report.shape
    table = Table(
        title=title,
        caption=(
            f"{PROBE_SOURCE}: trained on {report.train_images} images, scored on "
            f"{report.test_images} held-out images. Loss falls monotonically: "
            f"{'yes' if shape.monotone else 'no'} (tolerance {MONOTONE_TOLERANCE} nats); "
            f"normalized area {_number(shape.to_dict()['normalized_area'], 2)}, "
            f"plateau at relative depth {shape.plateau_depth:.2f}."
            + (
                ""
                if all(b.converged for b in report.blocks)
                else f" * stopped at {report.max_iter} L-BFGS iterations before converging: raise --epochs."
            )
        ),
    )
    for column in ("#", "output", "channels", "train loss", "test loss", "test acc %"):
        table.add_column(column, justify="left" if column == "output" else "right")
    for block in report.blocks:
        table.add_row(
            str(block.index),
            block.name + ("" if block.converged else " *"),
            str(block.channels),
            f"{block.train_loss:.3f}",
            f"{block.test_loss:.3f}",
            f"{100 * block.test_accuracy:.1f}",
        )
    return table


def sweep_table(result: SweepProbe) -> Table:
    monotone = sum(1 for model in result.models if model["monotone"])
    table = Table(
        title=f"Probe-loss curves of {len(result.models)} models in {result.store}",
        caption=f"{monotone} of {len(result.models)} curves fall monotonically. "
        f"Curves: {PROBE_SOURCE}; accuracy: the sweep store's (test top-1).",
    )
    for column in ("run", "N", "params", "acc", "blocks", "area", "plateau", "mono", "last loss"):
        table.add_column(column, justify="right")
    for model in sorted(result.models, key=lambda m: (m["num_layers"], m["params"] or 0)):
        table.add_row(
            model["run_id"][:6],
            str(model["num_layers"]),
            str(model["params"]),
            _number(model["accuracy"], 2),
            str(len(model["blocks"])),
            _number(model["normalized_area"], 2),
            _number(model["plateau_depth"], 2),
            "yes" if model["monotone"] else "no",
            _number(model["last_test_loss"]),
        )
    return table


def correlation_table(result: SweepProbe) -> Table | str:
    """The Spearman table, or one sentence when there are too few models for any of it."""
    if all(c.rho is None and c.n < MIN_MODELS for c in result.correlations):
        return (
            f"Too few models to conclude whether the curve's shape relates to accuracy or N: "
            f"{len(result.models)} probed, a rank correlation needs at least {MIN_MODELS}. "
            "(The study found no clear link.)"
        )
    table = Table(
        title="Does the curve's shape relate to accuracy or N? (Spearman)",
        caption="The study found no clear link between probe-loss curves and the best N.",
    )
    for column in ("shape metric", "vs", "n", "rho", "p", "verdict"):
        table.add_column(
            column, justify="left" if column in ("shape metric", "vs", "verdict") else "right"
        )
    for c in result.correlations:
        table.add_row(
            c.metric, c.target, str(c.n), _number(c.rho, 2), _number(c.p_value, 4), c.verdict
        )
    return table
