"""`advisor recommend`: the PhiNet to build for a board's flash, RAM and latency budgets."""

from __future__ import annotations

import json

import click

from advisor.cli.boards import board_options, resolve_board
from advisor.cli.options import accuracy_scale_option, json_option
from advisor.errors import AdvisorError, NothingFits
from advisor.validation import CHANNELS, CLASSES, MAX_RESOLUTION, RESOLUTION, integer


@click.command()
@board_options
@click.option(
    "--resolution",
    type=RESOLUTION,
    help="Side of the square input image in pixels [default: 160, the study's].",
)
@click.option(
    "--search-resolution",
    "search_resolution",
    metavar="R1,R2,...",
    help="Search these resolutions instead of one, e.g. 32,64,96,128,160; keeps the fitting one "
    "nearest the prior's regime resolution.",
)
@click.option(
    "--classes",
    "num_classes",
    type=CLASSES,
    default=10,
    show_default=True,
    help="Number of output classes.",
)
@click.option(
    "--channels",
    "in_channels",
    type=CHANNELS,
    default=3,
    show_default=True,
    help="Input channels (3 for RGB, 1 for grayscale).",
)
@click.option(
    "--latency-ms",
    type=float,
    help="Latency budget in ms, judged against the latency model's estimate for the "
    "board's core, engine and clock. Default: the board profile's.",
)
@click.option(
    "--flash",
    metavar="SIZE",
    help='Flash the model may use, e.g. "512KB" (default: the board\'s flash minus its reserve).',
)
@click.option(
    "--ram",
    metavar="SIZE",
    help='Tensor-arena RAM the model may use, e.g. "256KB" '
    "(default: the board's contiguous RAM minus its reserve).",
)
@click.option(
    "--macs",
    metavar="COUNT",
    help="An extra cap on MACs per inference, e.g. 20000000 or 2e7 (default: none; "
    "latency is judged by the latency model).",
)
@click.option(
    "--prior",
    "prior_name",
    metavar="NAME|PATH",
    help="Scaling prior (default: the built-in one; `advisor scaling` lists them).",
)
@click.option(
    "--dataset",
    metavar="NAME",
    help="Dataset you will train on, checked against the prior's regime (e.g. cifar10).",
)
@accuracy_scale_option()
@json_option(help="JSON on stdout instead of tables.")
def recommend(
    board: str | None,
    board_file: str | None,
    engine: str | None,
    resolution: int | None,
    search_resolution: str | None,
    num_classes: int,
    in_channels: int,
    latency_ms: float | None,
    flash: str | None,
    ram: str | None,
    macs: str | None,
    prior_name: str | None,
    dataset: str | None,
    accuracy_scale: str,
    as_json: bool,
) -> None:
    """The PhiNet (alpha, beta, t0, N) with the most predicted accuracy (or, without a fitted
    prior, the most parameters) that fits the board's flash, RAM and latency budgets
    (latency: estimated by the latency model of the board's core and engine).

    Exit codes: 0 a recommendation, 2 bad input, 3 nothing fits (the output says what would).
    """
    from advisor.solver import recommend as solver_recommend

    prior = None
    if prior_name is not None:
        from advisor.scaling import load_prior

        # a results file given as --prior is read with --accuracy-scale
        prior = load_prior(prior_name, accuracy_scale)

    result = solver_recommend(
        resolve_board(board, board_file, engine),
        resolution=resolution,
        search_resolutions=_parse_resolutions(search_resolution),
        in_channels=in_channels,
        num_classes=num_classes,
        latency_ms=latency_ms,
        flash=flash,
        ram=ram,
        macs=macs,
        prior=prior,
        dataset=dataset,
    )
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        (_show_recommendation if result.fits else _show_infeasible)(result.to_dict())
    if not result.fits:
        raise NothingFits(result.message())


def _parse_resolutions(text: str | None) -> list[int]:
    if text is None:
        return []
    values = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        values.append(
            integer(
                item,
                f"--search-resolution {item!r}",
                low=1,
                high=MAX_RESOLUTION,
                fix=f"give a comma-separated list of sides 1 to {MAX_RESOLUTION}, "
                "such as 32,64,96,128,160",
            )
        )
    if not values:
        raise AdvisorError("--search-resolution is empty: give e.g. 32,64,96,128,160")
    if len(set(values)) > MAX_SEARCHED_RESOLUTIONS:
        raise AdvisorError(
            f"--search-resolution lists {len(set(values))} sides; each is a full search, so "
            f"give at most {MAX_SEARCHED_RESOLUTIONS} (e.g. every 16 px from 32 to 256)"
        )
    return sorted(set(values))


# Each searched resolution runs the whole solver (about a second on a slow machine): 64 keeps
# the worst case to about a minute.
MAX_SEARCHED_RESOLUTIONS = 64


def _show_recommendation(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from advisor.boards import format_size

    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped or captured: no reason to wrap cells at 80 columns
    config, estimates, budgets, use = (
        data["config"],
        data["estimates"],
        data["budgets"],
        data["use_percent"],
    )
    figures = data["sources"]
    title = (
        f"PhiNet for {data['board']['name']} ({data['board']['id']}): alpha={config['alpha']:g} "
        f"beta={config['beta']:g} t0={config['t0']:g} N={config['num_layers']} at "
        f"{config['resolution']}x{config['resolution']}x{config['in_channels']}, "
        f"{config['num_classes']} classes"
    )
    table = Table(title=title, title_justify="left")
    for column in ("figure", "estimate", "budget", "use", "source (estimate / budget)"):
        text = column.startswith(("figure", "source"))
        table.add_column(
            column, justify="left" if text else "right", no_wrap=not column.startswith("source")
        )

    def source(name: str, budget_name: str) -> str:
        return f"{figures[name]} / {budgets['sources'][budget_name]}"

    table.add_row("parameters", f"{estimates['params']:,}", "", "", figures["params"])
    table.add_row(
        "int8 flash",
        format_size(estimates["flash_bytes"]),
        format_size(budgets["flash_bytes"]),
        f"{use['flash']:.1f} %",
        source("flash_bytes", "flash_bytes"),
    )
    table.add_row(
        "RAM: tensor arena",
        format_size(estimates["arena_bytes"]),
        format_size(budgets["ram_bytes"]),
        f"{use['ram']:.1f} %",
        source("arena_bytes", "ram_bytes"),
    )
    table.add_row(
        "  of which activations",
        format_size(estimates["peak_ram_bytes"]),
        "",
        "",
        figures["peak_ram_bytes"] + " (= TFLite Micro's activation plan)",
    )
    table.add_row(
        "MACs",
        f"{estimates['macs']:,}",
        "" if budgets["macs"] is None else f"{budgets['macs']:,}",
        "" if use["macs"] is None else f"{use['macs']:.1f} %",
        figures["macs"] + ("" if budgets["macs"] is None else f" / {budgets['sources']['macs']}"),
    )
    if estimates["latency_ms"] is None:
        table.add_row("latency", "not estimated", f"{budgets['latency_ms']:g} ms", "", "see below")
    else:
        error = estimates["latency_typical_error"]
        table.add_row(
            f"latency ({budgets['engine']})",
            f"{estimates['latency_ms']:.1f} ms"
            + ("" if error is None else f" ± {100 * error:.0f} %"),
            f"{budgets['latency_ms']:g} ms",
            f"{use['latency']:.1f} %",
            source("latency_ms", "latency_ms"),
        )
    if estimates["accuracy"] is None:
        table.add_row("accuracy", "no prediction", "", "", "nearest measured networks below")
    else:
        table.add_row(
            "accuracy",
            f"{estimates['accuracy']:.1f} ± {estimates['accuracy_std']:.1f} %",
            "",
            "",
            figures["accuracy"],
        )
    console.print(table)
    if estimates["latency_unavailable"]:
        console.print(f"latency: {estimates['latency_unavailable']}")
    for note in ("latency_extrapolation", "latency_note"):
        if estimates[note]:
            console.print(f"latency: {estimates[note]}")
    if estimates["accuracy"] is None:
        console.print(f"accuracy: {estimates['accuracy_unavailable']}")
    n_rule = data["n_rule"]
    also = data["binding_all"][1:]
    console.print(
        f"binding constraint: [bold]{data['binding'] or 'none'}[/bold]"
        + (f" (also {', '.join(also)})" if also else "")
    )
    console.print(f"N={n_rule['num_layers']}: {n_rule['rule']}")
    reach = ", ".join(
        f"N={n}: {'none' if p is None else f'{p:,}'}" for n, p in n_rule["reachable_params"].items()
    )
    console.print(f"most parameters each N reaches within the budgets (cost model): {reach}")
    if n_rule["differs_from_flash_only"]:
        console.print(
            f"the study's flash-only rule would give N={n_rule['flash_only_num_layers']} "
            f"(flash budget {budgets['flash_bytes']:,} B read as int8 parameters)"
        )
    if data["resolutions"]:
        _show_resolutions(console, data["resolutions"])
    if data["alternatives"]:
        objective = "predicted accuracy" if data["prior"]["has_curves"] else "parameters"
        alternatives = Table(
            title="Cheaper alternatives, caps relative to the recommendation "
            f"(Pareto set: {objective} vs latency and RAM; cost model; latency "
            f"{figures['latency_ms'] or 'not estimated: MACs stand in for it'})",
            title_justify="left",
        )
        with_accuracy = estimates["accuracy"] is not None
        columns = ("trade", "alpha", "beta", "t0", "N", "params", "arena RAM", "latency")
        for column in columns + (("accuracy",) if with_accuracy else ()):
            alternatives.add_column(
                column, justify="left" if column == "trade" else "right", no_wrap=True
            )
        for option in data["alternatives"]:
            c = option["config"]
            cells = [
                option["trade"],
                f"{c['alpha']:g}",
                f"{c['beta']:g}",
                f"{c['t0']:g}",
                str(c["num_layers"]),
                f"{option['params']:,}",
                format_size(option["arena_bytes"]),
                "n/a" if option["latency_ms"] is None else f"{option['latency_ms']:.1f} ms",
            ]
            if with_accuracy:
                cells.append(
                    "n/a"
                    if option["accuracy"] is None
                    else f"{option['accuracy']:.1f} ± {option['accuracy_std']:.1f} %"
                    + (" (extrapolated)" if option["accuracy_extrapolated"] else "")
                )
            alternatives.add_row(*cells)
        console.print(alternatives)
    _show_nearest(console, data["nearest_networks"])
    console.print(
        "save with --json > rec.json, then `advisor train --config rec.json`", style="dim"
    )


def _show_nearest(console, networks: list[dict]) -> None:
    from rich.table import Table

    if not networks:
        console.print("nearest measured networks: none on this dataset in the shipped priors")
        return
    table = Table(
        title="Nearest measured networks (same N first, then nearest in log-parameters and "
        "resolution; same dataset)",
        title_justify="left",
    )
    for column in ("N", "alpha", "beta", "t0", "params", "accuracy", "regime", "source"):
        table.add_column(
            column, justify="left" if column in ("regime", "source") else "right", no_wrap=False
        )
    for network in networks:
        regime = network["regime"]
        table.add_row(
            str(network["num_layers"]),
            f"{network['alpha']:g}",
            f"{network['beta']:g}",
            f"{network['t0']:g}",
            f"{network['params']:,}",
            f"{network['accuracy']:.2f} %",
            f"{regime['dataset']} {regime['resolution']}x{regime['resolution']}, "
            f"{regime['epochs']:g} epochs",
            f"{network['source']} ({network['prior']})",
        )
    console.print(table)


def _show_infeasible(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from advisor.boards import format_size

    console = Console()
    budgets, smallest = data["budgets"], data["smallest_need"]
    table = Table(
        title=f"Nothing fits {data['board']['name']} ({data['board']['id']}) at "
        f"{data['resolution']}x{data['resolution']}: the smallest PhiNet's needs",
        title_justify="left",
    )
    for column in ("budget", "smallest need", "available", "fits", "source"):
        table.add_column(
            column,
            justify="left" if column in ("budget", "source") else "right",
            no_wrap=column != "source",
        )
    from advisor.solver.budgets import BUDGET_KINDS

    formats = {"flash": format_size, "ram": format_size, "latency": lambda v: f"{v:,.1f} ms"}
    for kind in BUDGET_KINDS:
        if budgets[kind.budget] is None or (kind.name == "latency" and not budgets["engine"]):
            continue
        fmt = formats.get(kind.name, lambda v: f"{v:,}")
        need_source = (
            data["sources"]["latency_ms"]
            if kind.name == "latency"
            else data["sources"]["smallest_need"]
        )
        table.add_row(
            kind.label,
            fmt(smallest[kind.cost]),
            fmt(budgets[kind.budget]),
            "no" if kind.name in data["over_budget"] else "yes",
            f"{need_source} / {budgets['sources'][kind.budget]}",
        )
    console.print(table)
    if data["resolutions"]:
        _show_resolutions(console, data["resolutions"])


def _show_resolutions(console, rows: list[dict]) -> None:
    from rich.table import Table

    table = Table(title="Resolutions searched (cost model)", title_justify="left")
    for column in ("resolution", "fits", "N", "alpha", "beta", "t0", "params", "binding"):
        table.add_column(column, justify="right", no_wrap=True)
    for entry in rows:
        if entry["fits"]:
            table.add_row(
                str(entry["resolution"]),
                "yes",
                str(entry["num_layers"]),
                f"{entry['alpha']:g}",
                f"{entry['beta']:g}",
                f"{entry['t0']:g}",
                f"{entry['params']:,}",
                str(entry["binding"]),
            )
        else:
            table.add_row(
                str(entry["resolution"]),
                "no",
                "",
                "",
                "",
                "",
                "",
                "over: " + ", ".join(entry["over_budget"]),
            )
    console.print(table)
