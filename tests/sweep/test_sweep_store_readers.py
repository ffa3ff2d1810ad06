"""Readers of a sweep store open it read-only (and work on a read-only one); --store refuses
a database that is someone else's; --export into a missing folder is a clear error."""

import csv
import os
import sqlite3
import subprocess
import sys

import pytest

from advisor.cli import main
from advisor.sweep.grid import GridPoint
from advisor.sweep.regime import Regime, run_id
from advisor.sweep.store import SweepStore
from advisor.sweep.worker import RunTask

RECIPE = {"resolution": 32, "epochs": 10, "warmup_epochs": 0, "lr": 0.01, "seed": 0}
# acc = c - a / sqrt(P) per N, enough networks for `advisor scaling fit` (3 folds)
CURVES = {4: (500.0, 70.0), 5: (1000.0, 80.0), 7: (1800.0, 88.0), 9: (5800.0, 92.0)}


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["advisor", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def write_store(path):
    regime = Regime.from_recipe("CIFAR-10", RECIPE)
    with SweepStore(path) as store:
        for n, (a, c) in CURVES.items():
            for i, params in enumerate((3e4, 1e5, 3e5, 1e6, 3e6, 1e7)):
                point = GridPoint(0.1 + 0.05 * i, 1.0, 6, n)
                task = RunTask(run_id(point, regime, 0), point, regime, RECIPE, "data", "out")
                accuracy = c - a / params**0.5 + (0.3 if i % 2 else -0.3)
                store.record(
                    dict(task.base_row(), status="done", params=int(params), accuracy=accuracy)
                )
    return path


@pytest.fixture
def read_only_store(tmp_path):
    """A store in a folder that cannot be written: a read-only bind mount when the tests run
    as root (root ignores file modes), else file and folder modes."""
    source = tmp_path / "source"
    source.mkdir()
    write_store(source / "sweep.db")
    before = (source / "sweep.db").read_bytes()
    if os.geteuid() == 0:
        target = tmp_path / "mounted"
        target.mkdir()
        mounted = subprocess.run(
            ["mount", "--bind", "-o", "ro", str(source), str(target)], capture_output=True
        )
        if mounted.returncode != 0:
            pytest.skip("running as root without permission to mount a read-only folder")
        yield target / "sweep.db"
        subprocess.run(["umount", str(target)], check=True)
    else:
        (source / "sweep.db").chmod(0o444)
        source.chmod(0o555)
        yield source / "sweep.db"
        source.chmod(0o755)
    assert (source / "sweep.db").read_bytes() == before, "a reader changed the store"
    assert sorted(p.name for p in source.iterdir()) == ["sweep.db"]


def test_every_reader_works_on_a_read_only_store(monkeypatch, capsys, tmp_path, read_only_store):
    exported = tmp_path / "runs.csv"
    code, _out, err = run(
        monkeypatch, capsys, "sweep", "--store", read_only_store, "--export", exported
    )
    assert code == 0, err
    with exported.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 24
    prior = tmp_path / "prior.json"
    code, _out, err = run(
        monkeypatch,
        capsys,
        "scaling",
        "fit",
        "--store",
        read_only_store,
        "--out",
        prior,
        "--folds",
        "3",
    )
    assert code == 0, err
    assert prior.is_file()
    code, _out, err = run(
        monkeypatch,
        capsys,
        "recommend",
        "--board",
        "stm32h7",
        "--prior",
        read_only_store,
        "--resolution",
        "32",
        "--json",
    )
    assert code == 0, err


def test_probe_reads_a_read_only_store(monkeypatch, capsys, tmp_path, read_only_store):
    pytest.importorskip("torch", reason="advisor probe needs the train extra")
    code, out, err = run(
        monkeypatch, capsys, "probe", "--store", read_only_store, "--data", tmp_path
    )
    assert code != 2 and "not a usable SQLite database" not in err, err
    assert "no checkpoint recorded" in out + err


def test_a_foreign_database_is_refused_and_left_untouched(monkeypatch, capsys, tmp_path):
    path = tmp_path / "customers.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    connection.execute("INSERT INTO customers VALUES (1, 'Ada')")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    grid = tmp_path / "grid.json"
    grid.write_text('{"configs": [{"alpha": 0.25, "beta": 1, "t0": 4, "N": 4}]}')
    code, _out, err = run(
        monkeypatch,
        capsys,
        "sweep",
        "--grid",
        grid,
        "--data",
        "cifar10",
        "--resolution",
        "32",
        "--epochs",
        "1",
        "--warmup-epochs",
        "0",
        "--store",
        path,
        "--limit",
        "0",
    )
    assert code == 2 and "not a sweep store" in err and "customers" in err, err
    assert "Traceback" not in err
    assert path.read_bytes() == before
    connection = sqlite3.connect(path)
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    connection.close()
    assert tables == ["customers"]


def test_an_empty_database_file_becomes_a_store(tmp_path):
    path = tmp_path / "new.db"
    sqlite3.connect(path).close()
    with SweepStore(path) as store:
        assert store.counts() == {}


def test_export_into_a_missing_folder_is_a_clear_error(monkeypatch, capsys, tmp_path):
    store = write_store(tmp_path / "sweep.db")
    code, _out, err = run(
        monkeypatch, capsys, "sweep", "--store", store, "--export", tmp_path / "no" / "runs.csv"
    )
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "no").exists()
