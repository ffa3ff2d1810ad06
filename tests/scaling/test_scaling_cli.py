import csv
import itertools
import json
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner
from scaling_synthetic import synthetic_rows

from advisor.cli import cli
from advisor.errors import AdvisorError
from advisor.scaling import MODELS


@pytest.fixture(scope="module")
def results_csv(tmp_path_factory):
    rows = synthetic_rows(per_n=20, seed=8)
    path = tmp_path_factory.mktemp("scaling") / "results.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def run(*args):
    result = CliRunner().invoke(cli, ["scaling", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_cv_json_shape(results_csv):
    data = json.loads(run("cv", results_csv, "--folds", "4", "--json").stdout)
    assert set(data["models"]) == set(MODELS)
    for entry in data["models"].values():
        assert set(entry["rmse_by_n"]) == {"4", "5", "7", "9"}
        assert {"rmse_mean", "rmse_std_by_n", "failed_folds_by_n"} <= set(entry)
    assert data["models"]["generalized_hyperbolic"]["rmse_mean"] > 0
    assert data["folds"] == 4 and "cross-validation" in data["source"]


@pytest.mark.parametrize("source", ["raw", "fit"])
def test_segment_json_shape(results_csv, source):
    data = json.loads(run("segment", results_csv, "--source", source, "--json").stdout)
    intervals = data["intervals"]
    assert [set(iv) for iv in intervals] == [{"low", "high", "n"}] * len(intervals)
    assert all(a["high"] == b["low"] for a, b in itertools.pairwise(intervals))
    assert intervals[0]["n"] == 4 and intervals[-1]["n"] == 9


def test_fit_from_store_then_show(tmp_path):
    rows = synthetic_rows(per_n=15, seed=9, resolution=32, epochs=10)
    store = tmp_path / "sweep.db"
    connection = sqlite3.connect(store)
    connection.execute(f"CREATE TABLE runs ({', '.join(rows[0])}, status)")
    connection.executemany(
        f"INSERT INTO runs VALUES ({', '.join('?' * (len(rows[0]) + 1))})",
        [[*row.values(), "done"] for row in rows],
    )
    connection.commit()
    connection.close()
    out = tmp_path / "prior.json"
    run("fit", "--store", str(store), "--out", str(out), "--folds", "5")
    shown = json.loads(run("show", "--prior", str(out), "--json").stdout)
    assert shown["name"] == "prior" and shown["regime"]["resolution"] == 32
    assert set(shown["curves"]) == {"4", "5", "7", "9"}
    assert all(curve["source"] for curve in shown["curves"].values())


def test_show_default_prior_json():
    shown = json.loads(run("show", "--json").stdout)
    assert shown["source"] and shown["regime"]["dataset"]
    assert shown["intervals"][0]["low"] == 0


@pytest.mark.slow  # draws and saves every figure as PNG and SVG (about 20 s)
def test_plot_writes_every_figure(results_csv, tmp_path):
    run("plot", results_csv, "--out", str(tmp_path))
    stems = [
        "accuracy_vs_params",
        "accuracy_by_n",
        "segmentation_raw",
        "segmentation_smoothed",
        "segmentation_fit",
    ] + [f"fit_{name}" for name in MODELS]
    for stem in stems:
        for suffix in (".png", ".svg"):
            assert (tmp_path / f"{stem}{suffix}").stat().st_size > 1000, stem + suffix


def test_bad_table_exits_2_with_a_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("alpha,beta\n0.5,1\n")
    result = subprocess.run(
        [sys.executable, "-m", "advisor", "scaling", "cv", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "error:" in result.stderr and "missing column" in result.stderr
    assert "Traceback" not in result.stderr


def test_fractional_accuracies_exit_2_unless_the_scale_says_so(tmp_path):
    rows = [{**row, "accuracy": row["accuracy"] / 100} for row in synthetic_rows(per_n=8)]
    path = tmp_path / "fractions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    refused = CliRunner().invoke(cli, ["scaling", "segment", str(path), "--json"])
    assert isinstance(refused.exception, AdvisorError) and refused.exception.exit_code == 2
    assert "--accuracy-scale fraction" in str(refused.exception)
    refused = CliRunner().invoke(cli, ["recommend", "--board", "stm32h7", "--prior", str(path)])
    assert isinstance(refused.exception, AdvisorError)
    assert "Multiply the column by 100" in str(refused.exception)
    run("segment", str(path), "--accuracy-scale", "fraction", "--json")
