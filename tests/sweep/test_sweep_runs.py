"""Real tiny sweeps (training included) through the CLI, in process."""

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sweep_tiny import TINY_CONFIGS, TINY_REGIME

from advisor.cli import cli
from advisor.config import PhiNetConfig
from advisor.cost import estimate
from advisor.errors import AdvisorError
from advisor.scaling.results import load_results


def sweep(*args, exit_code=0):
    result = CliRunner().invoke(cli, ["sweep", *args, "--json"])
    error = result.exception
    if error and not isinstance(error, SystemExit):
        if getattr(error, "exit_code", None) != exit_code:
            raise error
        return json.loads(result.stdout), str(error)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def rows(store):
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute("SELECT * FROM runs ORDER BY run_id")]


@pytest.fixture(scope="module")
def swept(tmp_path_factory, tiny_data):
    folder = tmp_path_factory.mktemp("swept")
    grid = folder / "grid.json"
    grid.write_text(json.dumps({"configs": TINY_CONFIGS[:2]}))
    store = folder / "sweep.db"
    args = [
        "--grid",
        str(grid),
        "--data",
        str(tiny_data),
        *TINY_REGIME,
        "--store",
        str(store),
        "--cache-dir",
        str(folder / "cache"),
    ]
    summary = sweep(*args)
    return {"args": args, "store": store, "summary": summary, "rows": rows(store)}


def test_a_sweep_stores_one_finished_row_per_config_with_its_regime(swept):
    summary, stored = swept["summary"], swept["rows"]
    assert (summary["total"], summary["done"], summary["failed"], summary["ran_now"]) == (
        2,
        2,
        0,
        2,
    )
    assert len(stored) == 2 and {row["status"] for row in stored} == {"done"}
    for row in stored:
        config = PhiNetConfig.from_dict(json.loads(row["config"]))
        assert (config.resolution, config.num_classes) == (8, 2)
        cost = estimate(config).to_dict()
        assert (row["params"], row["macs"], row["peak_ram_bytes"], row["flash_bytes"]) == (
            cost["params"],
            cost["macs"],
            cost["peak_ram_bytes"],
            cost["flash_bytes"],
        )
        assert 0 <= row["accuracy"] <= 100 and 0 <= row["val_accuracy"] <= 100
        assert (row["dataset"], row["resolution"], row["epochs"], row["seed"]) == ("tiny", 8, 1, 0)
        regime = json.loads(row["regime"])
        assert regime["recipe"]["batch_size"] == 8 and "seed" not in regime["recipe"]
        assert row["seconds"] > 0 and row["error"] is None and row["host"]
        assert Path(row["checkpoint"]).is_file()
        assert row["source"] == "measured: training run"


def test_a_rerun_skips_finished_runs(swept):
    summary = sweep(*swept["args"])
    assert (summary["done"], summary["ran_now"], summary["left"]) == (2, 0, 0)
    assert rows(swept["store"]) == swept["rows"]


def test_a_different_regime_is_refused_and_the_store_left_alone(swept):
    args = list(swept["args"])
    args[args.index("--epochs") + 1] = "2"
    with pytest.raises(
        AdvisorError, match=r"another regime .*differs in epochs.*--allow-mixed-regimes"
    ):
        sweep(*args)
    assert rows(swept["store"]) == swept["rows"]


def test_the_store_and_its_csv_export_load_as_scaling_results(swept, tmp_path):
    from_store = load_results(swept["store"])
    csv_path = tmp_path / "runs.csv"
    assert sweep("--store", str(swept["store"]), "--export", str(csv_path))["rows"] == 2
    from_csv = load_results(csv_path)
    assert (
        sorted(from_store.params)
        == sorted(from_csv.params)
        == sorted(r["params"] for r in swept["rows"])
    )
    assert sorted(from_csv.accuracy) == pytest.approx(sorted(r["accuracy"] for r in swept["rows"]))
    assert from_csv.regime() == {"dataset": "tiny", "resolution": 8, "epochs": 1}


@pytest.mark.usefixtures("train_extra")
def test_a_missing_data_set_is_refused_before_any_run(tmp_path, grid_file):
    store = tmp_path / "s.db"
    with pytest.raises(AdvisorError, match="no-such-data does not exist"):
        sweep(
            "--grid",
            str(grid_file()),
            "--data",
            str(tmp_path / "no-such-data"),
            *TINY_REGIME,
            "--store",
            str(store),
        )
    assert not store.exists() or rows(store) == []


@pytest.mark.usefixtures("train_extra")
def test_an_unreadable_or_one_class_data_set_is_refused_before_any_run(tmp_path, grid_file):
    from synthetic_images import write_colour_folder

    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip archive")
    one_class = write_colour_folder(tmp_path / "one", {"train": 4, "test": 2}, colours=("red",))
    for data, message in ((broken, "broken.zip cannot be read"), (one_class, "1 class")):
        store = tmp_path / f"{data.stem}.db"
        with pytest.raises(AdvisorError, match=message) as refused:
            sweep(
                "--grid", str(grid_file()), "--data", str(data), *TINY_REGIME, "--store", str(store)
            )
        assert refused.value.exit_code == 2
        assert not store.exists() or rows(store) == []


@pytest.mark.slow  # two tiny sweeps (about 8 s)
def test_a_run_whose_checkpoint_cannot_be_resumed_restarts_with_the_old_folder_kept(
    tmp_path, grid_file, tiny_data
):
    store = tmp_path / "s.db"
    args = [
        "--grid",
        str(grid_file(TINY_CONFIGS[:1])),
        "--data",
        str(tiny_data),
        *TINY_REGIME,
        "--store",
        str(store),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    sweep(*args)
    (row,) = rows(store)
    run_dir = Path(row["checkpoint"]).parent
    # as if the sweep had died mid-run and its last.pt were torn (or of other data)
    db = sqlite3.connect(store)
    db.execute("UPDATE runs SET status='running'")
    db.commit()
    (run_dir / "last.pt").write_bytes(b"\x80\x02 torn")
    summary = sweep(*args)
    assert (summary["done"], summary["failed"], summary["ran_now"]) == (1, 0, 1)
    (row,) = rows(store)
    assert row["status"] == "done"
    assert "restarted from scratch" in row["error"] and "new --out" not in row["error"]
    kept = run_dir.with_name(f"{run_dir.name}.unresumable-1")
    assert str(kept) in row["error"]
    assert (kept / "last.pt").read_bytes() == b"\x80\x02 torn"
    assert Path(row["checkpoint"]).is_file() and (run_dir / "result.json").is_file()


@pytest.mark.slow  # four tiny sweeps (about 15 s)
def test_a_sweep_with_a_failed_run_exits_1_with_the_count_and_keeps_the_finished(
    tmp_path, grid_file, tiny_data
):
    from advisor.sweep.grid import load_grid
    from advisor.sweep.regime import Regime, run_id

    store = tmp_path / "s.db"
    grid = grid_file(TINY_CONFIGS[:2])
    args = ["--grid", str(grid), "--data", str(tiny_data), *TINY_REGIME]
    args += ["--store", str(store), "--cache-dir", str(tmp_path / "cache")]
    sweep(*args, "--limit", "1")
    (first,) = rows(store)
    regime = Regime(**json.loads(first["regime"]))
    ids = {run_id(point, regime, first["seed"]) for point in load_grid(grid)}
    (second,) = ids - {first["run_id"]}
    # a file where the run's folder goes: that run fails, the sweep goes on
    (Path(first["checkpoint"]).parent.parent / second).write_text("in the way")
    summary, error = sweep(*args, exit_code=1)
    assert (summary["done"], summary["failed"], summary["ran_now"]) == (1, 1, 1)
    assert "1 of 2 runs failed" in error and "1 finished runs are kept" in error
    assert {row["run_id"]: row["status"] for row in rows(store)} == {
        first["run_id"]: "done",
        second: "failed",
    }
    (Path(first["checkpoint"]).parent.parent / second).unlink()
    # failures are not retried unless asked, and still fail the sweep
    assert sweep(*args, exit_code=1)[0]["ran_now"] == 0
    summary = sweep(*args, "--retry-failed")
    assert (summary["done"], summary["failed"], summary["ran_now"]) == (2, 0, 1)


@pytest.mark.slow  # a tiny sweep (about 5 s)
def test_diverged_runs_are_stored_failed_with_the_reason(tmp_path, grid_file, tiny_data):
    store = tmp_path / "s.db"
    args = ["--grid", str(grid_file(TINY_CONFIGS[:1])), "--data", str(tiny_data), *TINY_REGIME]
    args += ["--store", str(store), "--cache-dir", str(tmp_path / "cache"), "--lr", "1e30"]
    summary, error = sweep(*args, exit_code=1)
    assert (summary["done"], summary["failed"]) == (0, 1) and "1 of 1 runs failed" in error
    (row,) = rows(store)
    assert row["status"] == "failed" and row["error"].startswith("Diverged: training diverged")


def test_a_short_sweep_scales_the_warm_up_as_train_does(tmp_path, tiny_data):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"configs": TINY_CONFIGS[:1]}))
    common = ["--grid", str(grid), "--data", str(tiny_data), "--resolution", "8", "--limit", "0"]
    summary = sweep(*common, "--epochs", "3", "--store", str(tmp_path / "three.db"))
    assert summary["regime"]["recipe"]["warmup_epochs"] == 0  # 10/110 of 3, rounded
    summary = sweep(*common, "--epochs", "22", "--store", str(tmp_path / "long.db"))
    assert summary["regime"]["recipe"]["warmup_epochs"] == 2
