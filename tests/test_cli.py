import importlib
import sys

import click
import pytest

from advisor.cli import SUBCOMMANDS, main


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["advisor", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr()


def test_a_missing_extra_names_the_extra_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if absent
    # Modules that earlier tests imported would not import torch again: forget them here.
    for name in [
        name for name in sys.modules if name.startswith(("advisor.training", "advisor.build"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    code, output = run(
        monkeypatch,
        capsys,
        "train",
        "--alpha",
        "0.25",
        "--beta",
        "1",
        "--t0",
        "6",
        "--layers",
        "7",
        "--data",
        str(tmp_path),
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 2
    assert "mcu-advisor[train]" in output.err
    assert "Traceback" not in output.err


def test_unknown_command_and_version(monkeypatch, capsys):
    code, output = run(monkeypatch, capsys, "nonsense")
    assert code == 2 and "No such command" in output.err
    code, output = run(monkeypatch, capsys, "--version")
    assert code == 0 and "advisor, version" in output.out


def test_the_version_is_the_installed_distributions(monkeypatch, capsys):
    """One version source: pyproject reads advisor.__version__ (setuptools dynamic version)."""
    from importlib.metadata import version

    import advisor

    code, output = run(monkeypatch, capsys, "--version")
    assert code == 0 and output.out.strip() == f"advisor, version {advisor.__version__}"
    assert version("mcu-advisor") == advisor.__version__


def test_help_lists_the_commands_in_data_flow_order(monkeypatch, capsys):
    code, output = run(monkeypatch, capsys, "--help")
    assert code == 0
    listed = [line.split()[0] for line in output.out.split("Commands:")[1].strip().splitlines()]
    assert listed == list(SUBCOMMANDS)


def _command_paths() -> list[tuple[str, ...]]:
    """Every subcommand of `advisor`, and every subcommand of those that are groups."""
    paths = []
    for name, (target, _) in SUBCOMMANDS.items():
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        paths.append((name,))
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in command.list_commands(click.Context(command))]
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_every_command_has_working_help(monkeypatch, capsys, path):
    """`--help` needs no optional extra: on a base install it works for every command."""
    code, output = run(monkeypatch, capsys, *path, "--help")
    assert code == 0, output.err
    usage = output.out.splitlines()[0]  # "Usage: <how advisor was started> boards show ..."
    assert usage.startswith("Usage: ") and f"advisor {' '.join(path)} " in usage
    assert output.err == ""
    assert "Options:" in output.out and "--help" in output.out


@pytest.mark.parametrize("command", ["train", "build", "sweep"])
@pytest.mark.parametrize(
    ("option", "value", "range_"), [("--threads", "0", "x>=1"), ("--seed", "-1", "x>=0")]
)
def test_shared_options_refuse_out_of_range_values_before_any_work(
    monkeypatch, capsys, command, option, value, range_
):
    code, output = run(monkeypatch, capsys, command, option, value)
    assert code == 2
    assert f"Invalid value for '{option}'" in output.err and range_ in output.err
