"""`advisor scaling`: the study's regressions, cross-validation, segmentation, priors, plots."""

from __future__ import annotations

import json
import math
from collections import Counter

import click

from advisor.cli.options import accuracy_scale_option, json_option, seed_option
from advisor.errors import AdvisorError

SOURCES = ("raw", "fit")


@click.group()
def scaling() -> None:
    """Fit, cross-validate and segment accuracy-vs-parameters scaling laws (one curve per N).

    RESULTS is a results table: CSV, JSON lines, or the SQLite store of `advisor sweep`."""


@scaling.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--folds", default=500, show_default=True, help="Random 70/30 splits per N.")
@seed_option(default=0, help="Seed of the random splits.")
@accuracy_scale_option()
@json_option(help="JSON on stdout.")
def cv(results: str, folds: int, seed: int, accuracy_scale: str, as_json: bool) -> None:
    """Cross-validated RMSE of the five regressions, per N and averaged over N."""
    from advisor.scaling import cross_validate, load_prior, load_results

    table = load_results(results, accuracy_scale)
    table.regime()
    click.echo(
        f"cross-validating 5 models x {len(table.n_values())} N x {folds} folds on "
        f"{len(table)} networks ...",
        err=True,
    )
    result = cross_validate(table, folds=folds, seed=seed)
    published = load_prior("study-published").cv_rmse
    source = (
        f"cross-validation of {results}: {folds} random 70/30 splits per N (seed {seed}), "
        "fit on 70 %, RMSE on 30 %"
    )
    if as_json:
        data = result.to_dict()
        data["source"] = source
        data["study_reference"] = published
        click.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    ns = table.n_values()
    view = Table(title="cross-validated RMSE (accuracy percentage points), mean +/- std over folds")
    view.add_column("model")
    for n in ns:
        view.add_column(f"N={n}", justify="right")
    view.add_column("mean over N", justify="right")
    view.add_column("failed folds", justify="right")
    for name in result.ranking():
        model = result.models[name]
        means, stds, failed = model.mean_by_n(), model.std_by_n(), model.failed_by_n()
        cells = [
            f"{means[n]:.3f}±{stds[n]:.3f}" if math.isfinite(means[n]) else "failed" for n in ns
        ]
        mean = model.mean()
        view.add_row(
            name, *cells, f"{mean:.3f}" if math.isfinite(mean) else "-", str(sum(failed.values()))
        )
    console = Console()
    console.print(view)
    console.print(f"source: {source}")
    for name, row in published.items():
        console.print(f"study's figure for {name}: {row['value']} % (source: {row['source']})")
    for name in result.ranking():
        reasons = sum(result.models[name].failure_reasons.values(), Counter())
        for reason, count in sorted(reasons.items()):
            console.print(f"  {name}: {count} folds failed: {reason}")


@scaling.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option(
    "--source",
    "source",
    type=click.Choice(SOURCES),
    default="raw",
    show_default=True,
    help="raw: best network per budget window; fit: generalized hyperbolic curves.",
)
@accuracy_scale_option()
@json_option(help="JSON on stdout.")
def segment(results: str, source: str, accuracy_scale: str, as_json: bool) -> None:
    """Best N for each parameter budget (the study's segmentation, smoothed)."""
    from advisor.scaling import fit_curve, load_results
    from advisor.scaling import segmentation as seg

    table = load_results(results, accuracy_scale)
    table.regime()
    if source == "raw":
        unsmoothed = seg.segment_raw(table)
        how = (
            f"best network of each N with params in [budget / {seg.DELTA}, budget], "
            f"{seg.BUDGETS} log-spaced budgets"
        )
    else:
        fits = {n: fit_curve("generalized_hyperbolic", p, a) for n, (p, a) in table.by_n().items()}
        for n, fit in fits.items():
            if not fit.ok:
                click.echo(
                    f"warning: N={n} left out: generalized hyperbolic fit failed ({fit.reason})",
                    err=True,
                )
        unsmoothed = seg.segment_fits(fits, table.params.min(), table.params.max())
        how = f"generalized hyperbolic fit per N evaluated at {seg.BUDGETS} log-spaced budgets"
    intervals = seg.smooth(unsmoothed)
    provenance = (
        f"segmentation of {results}: {how}; intervals narrower than "
        f"{seg.MIN_WIDTH_DECADES} decades dropped and re-joined"
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "intervals": [iv.to_dict() for iv in intervals],
                    "unsmoothed": [iv.to_dict() for iv in unsmoothed],
                    "source": provenance,
                },
                indent=2,
            )
        )
        return
    _print_intervals(intervals, f"best N per parameter budget ({source})")
    click.echo(f"source: {provenance}")


@scaling.command()
@click.argument("results", required=False, type=click.Path(dir_okay=False))
@click.option("--store", type=click.Path(dir_okay=False), help="SQLite store of `advisor sweep`.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Prior JSON to write.")
@click.option("--name", help="Prior name (default: the output file's stem).")
@click.option("--folds", default=100, show_default=True, help="CV folds for the uncertainty.")
@accuracy_scale_option()
def fit(
    results: str | None,
    store: str | None,
    out: str,
    name: str | None,
    folds: int,
    accuracy_scale: str,
) -> None:
    """Fit a prior (curves per N + segmentation) from a results table or sweep store."""
    from pathlib import Path

    from advisor.scaling import fit_prior, load_results

    if (results is None) == (store is None):
        raise AdvisorError(
            "give exactly one of RESULTS or --store, e.g. "
            "`advisor scaling fit --store sweep.db --out prior.json`."
        )
    table = load_results(results or store, accuracy_scale)
    prior = fit_prior(table, name or Path(out).stem, folds=folds)
    prior.save(out)
    click.echo(
        f"wrote {out}: {len(prior.curves)} curves, {len(prior.intervals)} intervals", err=True
    )
    _print_prior(prior)


@scaling.command()
@click.option(
    "--prior", "prior_name", help="A shipped prior's name, a prior JSON or a results file."
)
@accuracy_scale_option()
@json_option(help="JSON on stdout.")
def show(prior_name: str | None, accuracy_scale: str, as_json: bool) -> None:
    """The active prior: its regime, its rule, its curves and where every number came from."""
    from advisor.scaling import load_prior

    prior = load_prior(prior_name, accuracy_scale)
    if as_json:
        click.echo(json.dumps({**prior.to_dict(), "path": prior.path}, indent=2))
        return
    _print_prior(prior)


@scaling.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Directory for figures."
)
@accuracy_scale_option()
def plot(results: str, out: str, accuracy_scale: str) -> None:
    """The study's figures (2.2, 2.3, 4.1 b-f, 4.2 a-c) as PNG and SVG."""
    from advisor.scaling import load_results
    from advisor.scaling.plots import write_figures

    table = load_results(results, accuracy_scale)
    table.regime()
    for path in write_figures(table, out):
        click.echo(str(path))


def _print_intervals(intervals, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    view = Table(title=title)
    view.add_column("from (params)", justify="right")
    view.add_column("to (params)", justify="right")
    view.add_column("best N", justify="right")
    for interval in intervals:
        high = "and above" if math.isinf(interval.high) else f"{interval.high:,.0f}"
        view.add_row(f"{interval.low:,.0f}", high, str(interval.n))
    Console().print(view)


def _print_prior(prior) -> None:
    from rich.console import Console

    console = Console()
    console.print(f"[bold]prior {prior.name}[/bold] ({prior.kind}) {prior.path}")
    console.print(f"source: {prior.source}")
    console.print("regime: " + ", ".join(f"{k} = {v}" for k, v in prior.regime.items()))
    _print_intervals(prior.intervals, "best N per parameter budget")
    for interval, text in zip(prior.intervals, prior.interval_sources):
        if text:
            console.print(f"  N={interval.n} from {interval.low:,.0f}: {text}")
    for n, curve in sorted(prior.curves.items()):
        console.print(
            f"curve N={n}: acc = {curve.c:.2f} - {curve.a:.4g} / P^{curve.phi:.3f} "
            f"+/- {curve.std:.2f} % over {curve.params_low:,.0f}-{curve.params_high:,.0f}"
            f" params ({curve.source})"
        )
    for n, curve in sorted(prior.accuracy_curves.items()):
        console.print(
            f"accuracy curve N={n} (from {prior.accuracy_from}; predicts accuracy, not N): "
            f"acc = {curve.c:.2f} - {curve.a:.4g} / P^{curve.phi:.3f} +/- {curve.std:.2f} % "
            f"over {curve.params_low:,.0f}-{curve.params_high:,.0f} params ({curve.source})"
        )
    if not prior.predicts_accuracy:
        console.print("no accuracy curves: this prior picks N but predicts no accuracy.")
    for part in prior.parts:
        console.print(f"{part['part']}: from {part['from'] or 'nothing'} ({part['source']})")
    for name, row in prior.cv_rmse.items():
        console.print(f"CV RMSE {name}: {row['value']} % (source: {row['source']})")
    for caveat in prior.caveats:
        console.print(f"caveat: {caveat['text']} (source: {caveat['source']})")
