"""The `advisor` command. Subcommands load their module only when run, so that
`advisor boards` never pays for torch, tensorflow or ray."""

from __future__ import annotations

import importlib
import sys

import click

from advisor import __version__
from advisor.errors import AdvisorError

# name -> ("module:attribute" of a click command, imported on first use; one-line help), in
# the data-flow order `advisor --help` lists them: boards -> cost -> scaling -> solver ->
# training -> export -> sweep/probe
SUBCOMMANDS = {
    "boards": ("advisor.cli.boards:boards", "List board profiles and their budgets."),
    "cost": ("advisor.cli.cost:cost", "Parameters, MACs, peak RAM and flash of a PhiNet."),
    "scaling": ("advisor.cli.scaling:scaling", "Fit, cross-validate and segment scaling laws."),
    "recommend": ("advisor.cli.recommend:recommend", "The best PhiNet for a board's budgets."),
    "train": ("advisor.cli.train:train", "Train a PhiNet on CIFAR or an image folder."),
    "build": ("advisor.cli.build:build", "Recommend, train, quantize, export and verify."),
    "check": ("advisor.cli.check:check", "Measure a .tflite in TFLite Micro and judge boards."),
    "sweep": ("advisor.cli.sweep:sweep", "Train a grid of PhiNets into a SQLite store."),
    "probe": ("advisor.cli.probe:probe", "Linear probes on every block of a trained PhiNet."),
}


# top-level module of an optional dependency -> the extra that installs it
EXTRA_OF_MODULE = {
    "torch": "train",
    "torch_optimizer": "train",
    "PIL": "train",
    "tensorflow": "export",
    "tflite_micro": "export",
    "onnx": "export",
    "onnxruntime": "export",
    "jinja2": "export",
    "ray": "distributed",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        module_name, attribute = SUBCOMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="advisor")
def cli() -> None:
    """Which PhiNet fits my microcontroller, how accurate will it be, and the int8 model
    and C header that prove it fits."""


def main(args: list[str] | None = None) -> None:
    """Run `advisor` with `args` (default: the command line), turning errors into messages
    and exit codes; always ends in SystemExit."""
    try:
        returned = cli.main(args=args, prog_name="advisor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except AdvisorError as err:
        click.secho(f"error: {err}", fg="red", err=True)
        sys.exit(err.exit_code)
    except ModuleNotFoundError as err:
        extra = EXTRA_OF_MODULE.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        click.secho(
            f"error: this command needs {err.name}, which is not installed; install the "
            f"'{extra}' extra: pip install torch==2.13.0 'mcu-advisor[{extra}]' (the pin "
            "keeps torch's CPU build; leave it out on a GPU machine)",
            fg="red",
            err=True,
        )
        sys.exit(2)
    # without standalone mode, click returns ctx.exit(code)'s code instead of exiting
    sys.exit(returned if isinstance(returned, int) else 0)
