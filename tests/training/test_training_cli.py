import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from click.testing import CliRunner
from synthetic_images import zip_folder

from advisor.cli import cli, main
from advisor.config import PhiNetConfig
from advisor.training.data import load_dataset
from advisor.training.recipe import Recipe
from advisor.training.trainer import TIMING_KEYS, train

TINY = [
    "--alpha",
    "0.25",
    "--beta",
    "1",
    "--t0",
    "3",
    "--layers",
    "3",
    "--resolution",
    "16",
    "--split",
    "test+val",
    "--val-fraction",
    "0.25",
    "--batch-size",
    "16",
    "--threads",
    "1",
]


def test_train_takes_a_recommendation_json_and_prints_json_with_sources(image_folder, tmp_path):
    archive = zip_folder(image_folder, tmp_path / "shapes.zip", top="shapes")
    recommendation = tmp_path / "rec.json"
    recommendation.write_text(
        json.dumps(
            {
                "config": {"alpha": 0.25, "beta": 1, "t0": 3, "num_layers": 3, "resolution": 16},
                "board": "stm32h7",
            }
        )
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--config",
            str(recommendation),
            "--data",
            str(archive),
            "--split",
            "test+val",
            "--batch-size",
            "16",
            "--threads",
            "1",
            "--epochs",
            "2",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["epochs_completed"] == 2 and 0 <= report["test_accuracy"] <= 1
    assert report["sources"]["test_accuracy"] == "measured: training run"
    assert report["config"]["resolution"] == report["recipe"]["resolution"] == 16
    assert report["config"]["num_classes"] == 3 and report["recipe"]["warmup_epochs"] == 0
    assert "num_classes" in result.stderr  # the note that the data set the classifier's size
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2


def run_main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["advisor", "train", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err


def test_bad_input_exits_2_with_a_message(monkeypatch, capsys, tmp_path):
    code, err = run_main(
        monkeypatch,
        capsys,
        *TINY,
        "--data",
        str(tmp_path / "missing"),
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 2 and "error:" in err and "missing does not exist" in err
    code, err = run_main(
        monkeypatch, capsys, "--alpha", "0.3", "--data", "cifar10", "--out", str(tmp_path / "run")
    )
    assert code == 2 and "missing --beta --t0 --layers" in err


@pytest.mark.slow  # three training runs in subprocesses (about 18 s)
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_like_an_uninterrupted_run(
    image_folder, tmp_path
):
    out, cache = tmp_path / "run", tmp_path / "cache"
    command = [
        sys.executable,
        "-m",
        "advisor",
        "train",
        *TINY,
        "--data",
        str(image_folder),
        "--epochs",
        "8",
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "--resume" in stderr
    saved = torch.load(out / "last.pt", weights_only=True)
    assert 1 <= saved["epoch"] < 8

    resumed = CliRunner().invoke(
        cli,
        [
            "train",
            "--out",
            str(out),
            "--resume",
            "--threads",
            "1",
            "--cache-dir",
            str(cache),
            "--json",
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["epochs_completed"] == 8

    config = PhiNetConfig.from_json_file(out / "config.json")
    recipe = Recipe.from_dict(json.loads((out / "recipe.json").read_text()))
    data = load_dataset(
        image_folder, 16, recipe.split, recipe.seed, val_fraction=recipe.val_fraction
    )
    whole = train(config, data, tmp_path / "whole", recipe, progress=False)

    def metrics(run):
        return [
            {k: v for k, v in json.loads(line).items() if k not in TIMING_KEYS}
            for line in (run / "metrics.jsonl").read_text().splitlines()
        ]

    resumed_metrics, whole_metrics = metrics(out), metrics(tmp_path / "whole")
    assert len(resumed_metrics) == len(whole_metrics) == 8
    for got, expected in zip(resumed_metrics, whole_metrics):
        assert got == pytest.approx(expected)
    assert json.loads(resumed.stdout)["test_accuracy"] == whole.test_accuracy
    final = torch.load(out / "last.pt", weights_only=True)["model_state"]
    for key, value in torch.load(whole.last_checkpoint, weights_only=True)["model_state"].items():
        torch.testing.assert_close(final[key], value, rtol=1e-5, atol=1e-6, msg=key)
