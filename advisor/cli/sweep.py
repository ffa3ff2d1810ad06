"""`advisor sweep`: train a grid of PhiNets into a resumable SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor.cli.options import (
    cache_dir_option,
    data_option,
    device_option,
    json_option,
    seed_option,
    threads_option,
)
from advisor.errors import AdvisorError, CheckFailed
from advisor.provenance import COST_MODEL, TRAINING
from advisor.validation import RESOLUTION


@click.command()
@click.option(
    "--grid",
    "grid_spec",
    default=None,
    help="'study' (the study's 270 configs) or a TOML/JSON grid file.",
)
@data_option()
@cache_dir_option()
@click.option(
    "--dataset-name",
    default=None,
    help="Label of the data set in the regime (default: the data path's name).",
)
@click.option("--resolution", type=RESOLUTION, help="Training resolution (side in pixels).")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="All epochs of each run, warm-up included (study: 110).",
)
@click.option(
    "--warmup-epochs",
    type=click.IntRange(min=0),
    help="Warm-up epochs (default: the study's 10 of 110, in proportion to --epochs).",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="Batch size (default: the recipe's)."
)
@click.option("--lr", type=float, default=None, help="Learning rate (default: the recipe's).")
@seed_option(help="Seed of every run (default: the recipe's).")
@click.option(
    "--store", type=click.Path(dir_okay=False), required=True, help="SQLite file of results."
)
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Checkpoints and metrics per run (default: STORE's name + '.runs').",
)
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Runs at once (local: processes, default 1; ray: default the cluster's CPUs).",
)
@threads_option(help="Torch threads per local worker.")
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray).")
@click.option("--cpus-per-run", type=float, default=1, show_default=True, help="Ray: CPUs per run.")
@click.option(
    "--gpus-per-run",
    type=float,
    default=0,
    show_default=True,
    help="Ray: GPUs per run (0.25 puts four small runs on a GPU).",
)
@device_option()
@click.option(
    "--limit", type=int, default=None, help="Run at most this many runs now (0: just report)."
)
@click.option(
    "--order",
    type=click.Choice(["small-first", "grid"]),
    default="small-first",
    show_default=True,
    help="small-first: fewest MACs first (cost model).",
)
@click.option("--retry-failed", is_flag=True, help="Run again the runs that failed before.")
@click.option(
    "--allow-mixed-regimes",
    is_flag=True,
    help="Add runs of a regime other than the store's (a prior needs one regime).",
)
@click.option(
    "--export",
    "export_csv",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the store's finished runs as CSV and exit (trains nothing).",
)
@json_option(help="A JSON summary on stdout.")
def sweep(
    grid_spec,
    data,
    cache_dir,
    dataset_name,
    resolution,
    epochs,
    warmup_epochs,
    batch_size,
    lr,
    seed,
    store,
    runs_dir,
    executor,
    workers,
    threads,
    address,
    cpus_per_run,
    gpus_per_run,
    device,
    limit,
    order,
    retry_failed,
    allow_mixed_regimes,
    export_csv,
    as_json,
):
    """Train a grid of PhiNets into a SQLite store; rerun to resume where it stopped.

    Exit codes: 0 every run of the grid is done (or left for later by --limit), 1 some run
    failed (the finished ones are kept), 2 bad input."""
    from advisor.sweep.store import SweepStore

    if export_csv:
        if not Path(store).exists():
            raise AdvisorError(f"store {store} does not exist; run a sweep into it first")
        if not Path(export_csv).parent.is_dir():
            raise AdvisorError(
                f"the folder of --export {export_csv} does not exist: create it, or give a "
                "path in an existing folder"
            )
        with SweepStore(store, read_only=True) as opened:
            count = opened.export_csv(export_csv)
        _emit(
            {"store": store, "csv": export_csv, "rows": count},
            as_json,
            f"wrote {count} finished runs to {export_csv}",
        )
        return

    missing = [
        flag
        for flag, value in (
            ("--grid", grid_spec),
            ("--data", data),
            ("--resolution", resolution),
            ("--epochs", epochs),
        )
        if value is None
    ]
    if missing:
        raise AdvisorError(
            f"advisor sweep needs {', '.join(missing)} (or --export CSV to export a store)"
        )

    from advisor.cache import user_cache_dir
    from advisor.sweep.executors import make_executor
    from advisor.sweep.grid import load_grid
    from advisor.sweep.recipe import recipe_dict
    from advisor.sweep.regime import Regime
    from advisor.sweep.runner import SweepProgress, plan_sweep

    # The grid, the recipe and an existing store are checked before the training stack loads.
    points = load_grid(grid_spec)
    recipe = recipe_dict(
        resolution=resolution,
        epochs=epochs,
        warmup_epochs=warmup_epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
    )
    regime = Regime.from_recipe(dataset_name or _dataset_label(data), recipe)
    if Path(store).is_file() and Path(store).stat().st_size > 0:
        with SweepStore(store, read_only=True) as existing:  # refuses a foreign database
            existing.check_regime(regime, allow_mixed=allow_mixed_regimes)

    from advisor.training.data import check_source
    from advisor.training.session import resolve_device

    # every run would fail on an unknown device; ray's workers may have devices this host lacks
    if device is not None:
        resolve_device(device, here=executor == "local")
    check_source(data)  # before any run: a missing, unreadable or one-class data set
    runs_dir = Path(runs_dir) if runs_dir else Path(store).with_suffix(".runs")
    with SweepStore(store) as opened:
        opened.check_regime(regime, allow_mixed=allow_mixed_regimes)
        plan = plan_sweep(
            points,
            regime,
            recipe,
            str(data),
            opened,
            runs_dir,
            order=order,
            limit=limit,
            retry_failed=retry_failed,
            device=device,
            data_options={"cache_dir": str(cache_dir or user_cache_dir())},
        )
        if plan.tasks:
            runner = make_executor(executor, workers, address, threads, cpus_per_run, gpus_per_run)
            progress = _run_with_view(plan, opened, runner, regime)
        else:
            progress = SweepProgress(total=plan.total, done=plan.done, failed=plan.failed_skipped)
    summary = {
        "store": str(store),
        "regime": regime.to_dict(),
        "regime_label": regime.label(),
        "total": plan.total,
        "done": progress.done,
        "failed": progress.failed,
        "ran_now": progress.ran,
        "left": plan.total - progress.done - progress.failed,
        "left_by_limit": plan.beyond_limit,
        "source": TRAINING,
    }
    text = (
        f"{regime.label()}: {progress.done}/{plan.total} done, {progress.failed} failed, "
        f"{summary['left']} left ({progress.ran} run now) in {store}"
    )
    if plan.failed_skipped:
        text += f"; {plan.failed_skipped} earlier failures skipped (--retry-failed reruns them)"
    _emit(summary, as_json, text)
    if progress.failed:
        raise CheckFailed(
            f"{progress.failed} of {plan.total} runs failed (their errors are in the store's "
            f"error column); the {progress.done} finished runs are kept in {store}. Fix the "
            "cause and rerun with --retry-failed"
        )


def _dataset_label(data: str) -> str:
    path = Path(data)
    return path.name.split(".")[0] if path.suffix else path.name


def _emit(summary: dict, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(text, err=True)


def _run_with_view(plan, store, executor, regime):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from advisor.sweep.runner import run_sweep

    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=16),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        TextColumn("ETA {task.fields[eta]}"),
    )
    console.print(f"params: {COST_MODEL}; accuracy and seconds: {TRAINING}", style="dim")
    with Progress(*columns, console=console, transient=False) as view:
        bar = view.add_task(
            regime.label(), total=plan.total, completed=plan.done, counts="", eta="?"
        )
        reported = [0]

        def on_event(progress) -> None:
            if progress.ran > reported[0] and progress.last_row is not None:
                reported[0] = progress.ran
                console.print(_run_line(progress.last_row))
            eta = progress.eta_seconds()
            view.update(
                bar,
                completed=progress.done + progress.failed,
                counts=(
                    f"{progress.done} done · {progress.running} running · "
                    f"{progress.left} left · {progress.failed} failed"
                ),
                eta="?" if eta is None else _duration(eta),
            )

        return run_sweep(plan, store, executor, on_event)


def _run_line(row: dict) -> str:
    name = f"alpha {row['alpha']:g} beta {row['beta']:g} t0 {row['t0']:g} N {row['num_layers']}"
    if row["status"] == "done":
        return (
            f"[green]done[/] {name}: {row['params']:,} params, "
            f"{row['accuracy']:.2f} % test top-1, {row['seconds']:.0f} s"
        )
    from rich.markup import escape

    first_line = (row.get("error") or "unknown error").splitlines()[0]
    return f"[red]failed[/] {name}: {escape(first_line)}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
