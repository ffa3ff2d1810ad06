import sys

import pytest

from advisor.cli import main


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
