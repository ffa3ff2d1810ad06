"""Every text file a user hands the tool is read as UTF-8; one that is not is named, exit 2."""

import sys

import pytest

from advisor.cli import main

LATIN1 = "caf\xe9".encode("latin-1")  # b"caf\xe9": not UTF-8


@pytest.fixture(autouse=True)
def only_builtin_boards(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["advisor", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


RESULTS_CSV = b"alpha,beta,t0,N,resolution,dataset,epochs,params,accuracy\n0.5,1,6,7,32," + LATIN1
CASES = {
    "board.toml": (b'id = "' + LATIN1 + b'"\n', ("recommend", "--board-file", "{path}")),
    "results.csv": (RESULTS_CSV + b",10,1000,50\n", ("scaling", "fit", "{path}", "--out", "p.json")),
    "results.jsonl": (b'{"dataset": "' + LATIN1 + b'"}\n', ("scaling", "cv", "{path}")),
    "prior.json": (
        b'{"format": "mcu-advisor prior v1", "name": "' + LATIN1 + b'"}',
        ("recommend", "--board", "stm32h7", "--prior", "{path}"),
    ),
    "config.json": (b'{"alpha": "' + LATIN1 + b'"}', ("cost", "--config", "{path}")),
    "grid.toml": (
        b"alpha = [0.5] # " + LATIN1 + b"\n",
        ("sweep", "--grid", "{path}", "--data", "cifar10", "--resolution", "32", "--epochs",
         "1", "--warmup-epochs", "0", "--store", "s.db", "--limit", "0"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_file_that_is_not_utf8_is_named(monkeypatch, capsys, tmp_path, name):
    content, args = CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(monkeypatch, capsys, *(a.format(path=path) for a in args))
    assert code == 2, err
    assert "not UTF-8" in err and str(path) in err and "save it as UTF-8" in err, err
    assert "Traceback" not in err


def test_a_results_row_with_an_absurd_depth_is_refused(monkeypatch, capsys, tmp_path):
    """N = 1e25 is integral but overflowed numpy's int cast (found by the fuzz suite)."""
    path = tmp_path / "results.csv"
    path.write_text(
        "alpha,beta,t0,N,resolution,dataset,epochs,params,accuracy\n"
        "0.5,1,6,1e25,32,cifar10,10,1000,50\n",
        encoding="utf-8",
    )
    code, _, err = run(monkeypatch, capsys, "scaling", "segment", path)
    assert code == 2 and "num_layers" in err and "up to 64" in err, err
