"""`advisor probe` end to end on real tiny checkpoints from advisor's trainer."""

import json
import sys

import pytest
import torch
from probe_helpers import train_tiny

from advisor.cli import main

pytestmark = pytest.mark.slow  # trains tiny PhiNets and probes them (about 10 s)


def run_advisor(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["advisor", *map(str, args)])
    with pytest.raises(SystemExit) as exit_:
        main()
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exit_.value.code or 0, captured.out, captured.err


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MCU_ADVISOR_CACHE", str(tmp_path / "cache"))


def test_json_report_of_a_trained_phinet(
    monkeypatch, capsys, tiny_checkpoint, colour_data, tmp_path
):
    code, out, err = run_advisor(
        monkeypatch,
        capsys,
        "probe",
        tiny_checkpoint,
        "--data",
        colour_data,
        "--json",
        "--out",
        tmp_path / "figs",
        "--epochs",
        "100",
    )
    assert code == 0, err
    report = json.loads(out)
    from advisor.training.checkpoint import load_checkpoint

    model, _config, _ = load_checkpoint(tiny_checkpoint)
    outputs = model.forward_blocks(torch.zeros(1, 3, 16, 16))
    blocks = report["blocks"]
    assert [b["name"] for b in blocks] == ["stem"] + [f"block {i}" for i in range(5)]
    assert [b["channels"] for b in blocks] == [o.shape[1] for o in outputs]
    assert [b["index"] for b in blocks] == list(range(6))
    for block in blocks:
        assert {"train_loss", "test_loss", "test_accuracy"} <= block.keys()
        assert block["test_loss"] > 0 and 0 <= block["test_accuracy"] <= 1
    assert blocks[0]["test_accuracy"] > 0.8  # the class is the dominant colour: linear at the stem
    assert isinstance(report["monotone_loss"], bool)
    assert report["source"] == "measured: linear probe on held-out data"
    assert (report["train_images"], report["test_images"]) == (
        66,
        30,
    )  # 10 % of train held out for validation
    assert report["same_data_as_training"] is True
    for suffix in ("png", "svg", "json"):
        assert (tmp_path / "figs" / f"probe.{suffix}").stat().st_size > 1000


def test_bad_checkpoint_exits_2_and_names_the_file(monkeypatch, capsys, colour_data, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    code, out, err = run_advisor(monkeypatch, capsys, "probe", broken, "--data", colour_data)
    assert code == 2 and "broken.pt" in err and "Traceback" not in err and out == ""
    code, _, err = run_advisor(
        monkeypatch, capsys, "probe", tmp_path / "missing.pt", "--data", colour_data
    )
    assert code == 2 and "missing.pt" in err and "does not exist" in err
    mismatched = tmp_path / "mismatched.pt"
    torch.save(
        {
            "format": 1,
            "config": {"alpha": 0.25, "beta": 1.0, "t0": 4, "num_layers": 4},
            "model_state": {"classifier.2.weight": torch.zeros(3, 3)},
        },
        mismatched,
    )
    code, _, err = run_advisor(monkeypatch, capsys, "probe", mismatched, "--data", colour_data)
    assert (
        code == 2
        and "mismatched.pt holds weights of another architecture" in err
        and "Traceback" not in err
    )


def test_checkpoint_and_store_are_exclusive(monkeypatch, capsys, tmp_path):
    code, _, err = run_advisor(monkeypatch, capsys, "probe", "--data", "cifar10")
    assert code == 2 and "exactly one" in err
    code, _, err = run_advisor(
        monkeypatch, capsys, "probe", "--data", "x", "--store", tmp_path / "no.db"
    )
    assert code == 2 and "no.db does not exist" in err


def test_probe_over_a_sweep_store(monkeypatch, capsys, tiny_checkpoint, colour_data, tmp_path):
    from advisor.sweep.store import DONE, SweepStore

    deeper = train_tiny(
        {"alpha": 0.25, "beta": 1.0, "t0": 4, "num_layers": 5}, colour_data, tmp_path / "deeper"
    )
    common = {
        "status": DONE,
        "beta": 1.0,
        "t0": 4,
        "resolution": 16,
        "dataset": "colours",
        "epochs": 1,
        "seed": 0,
        "source": "measured: training run",
        "regime_id": "r",
        "regime": {"dataset": "colours"},
    }
    with SweepStore(tmp_path / "sweep.db") as store:
        store.record(
            {
                **common,
                "run_id": "a",
                "alpha": 0.25,
                "num_layers": 4,
                "params": 1000,
                "accuracy": 50.0,
                "checkpoint": str(tiny_checkpoint),
            }
        )
        store.record(
            {
                **common,
                "run_id": "b",
                "alpha": 0.25,
                "num_layers": 5,
                "params": 2000,
                "accuracy": 60.0,
                "checkpoint": str(deeper),
            }
        )
        store.record(
            {
                **common,
                "run_id": "c",
                "alpha": 0.5,
                "num_layers": 4,
                "params": 3000,
                "accuracy": 70.0,
                "checkpoint": None,
            }
        )
    code, out, err = run_advisor(
        monkeypatch,
        capsys,
        "probe",
        "--store",
        tmp_path / "sweep.db",
        "--data",
        colour_data,
        "--json",
        "--epochs",
        "50",
    )
    assert code == 0, err
    result = json.loads(out)
    assert sorted(m["run_id"] for m in result["models"]) == ["a", "b"]
    assert {m["run_id"]: len(m["blocks"]) for m in result["models"]} == {"a": 6, "b": 7}
    assert all(
        m["blocks"][0]["name"] == "stem" and m["same_data_as_training"] for m in result["models"]
    )
    assert result["skipped"] == [{"run_id": "c", "reason": "no checkpoint recorded"}]
    assert result["enough_models"] is False and len(result["correlations"]) == 12
    assert all(
        c["n"] == 2 and c["rho"] is None and c["verdict"].startswith("too few models")
        for c in result["correlations"]
    )


def test_cli_defaults_are_the_probe_defaults():
    from advisor.cli import probe as cli_probe
    from advisor.probe import logistic

    assert (cli_probe.DEFAULT_EPOCHS, cli_probe.DEFAULT_L2) == (
        logistic.DEFAULT_MAX_ITER,
        logistic.DEFAULT_L2,
    )
