"""Bad files and names around training: each a clear error with exit 2, never a traceback."""

import os
import shutil
import sys

import pytest
import torch

from advisor.cli import main

TINY = ("--alpha", "0.25", "--beta", "1", "--t0", "4", "--layers", "4")
QUICK = ("--epochs", "1", "--warmup-epochs", "0", "--resolution", "16", "--device", "cpu")


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["advisor", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, image_folder):
    """One tiny finished run (1 epoch), copied by each test that edits it."""
    from advisor.config import PhiNetConfig
    from advisor.training.recipe import Recipe
    from advisor.training.trainer import train as run_training

    out = tmp_path_factory.mktemp("trained") / "run"
    recipe = Recipe.from_dict(
        {**Recipe.study().to_dict(), "epochs": 1, "warmup_epochs": 0, "resolution": 16}
    )
    run_training(
        PhiNetConfig(0.25, 1, 4, 4, resolution=16, num_classes=3),
        image_folder,
        out,
        recipe,
        device="cpu",
        progress=False,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )
    return out


def resume(monkeypatch, capsys, out, image_folder):
    cache = out.parent / "cache"
    return run(
        monkeypatch, capsys, "train", "--data", image_folder, "--out", out, "--resume",
        "--cache-dir", cache,
    )  # fmt: skip


def test_a_corrupt_recipe_json_on_resume(monkeypatch, capsys, tmp_path, trained_run, image_folder):
    out = shutil.copytree(trained_run, tmp_path / "run")
    (out / "recipe.json").write_text('{"epochs": 3,')
    code, _, err = resume(monkeypatch, capsys, out, image_folder)
    assert code == 2 and "recipe.json" in err and "not valid JSON" in err, err
    assert "Traceback" not in err


def test_a_checkpoint_of_another_architecture_on_resume(
    monkeypatch, capsys, tmp_path, trained_run, image_folder
):
    from advisor.config import PhiNetConfig
    from advisor.training.phinet import PhiNet

    out = shutil.copytree(trained_run, tmp_path / "run")
    payload = torch.load(out / "last.pt", weights_only=True)
    payload["model_state"] = PhiNet(PhiNetConfig(0.5, 1, 4, 4, num_classes=3)).state_dict()
    torch.save(payload, out / "last.pt")
    code, _, err = resume(monkeypatch, capsys, out, image_folder)
    assert code == 2 and "another architecture" in err and "last.pt" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("device", ["nosuch", "cuda:99"])
def test_an_unknown_device_fails_before_anything_is_written(
    monkeypatch, capsys, tmp_path, image_folder, device
):
    if device.startswith("cuda") and torch.cuda.device_count() > 99:
        pytest.skip("a machine with 100 GPUs")
    out = tmp_path / "run"
    code, _, err = run(
        monkeypatch,
        capsys,
        "train",
        *TINY,
        "--data",
        image_folder,
        "--out",
        out,
        *QUICK[:-2],
        "--device",
        device,
    )
    assert code == 2 and f"--device {device}" in err.replace("'", ""), err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes only on Linux")
def test_a_class_folder_name_that_is_not_utf8(monkeypatch, capsys, tmp_path, image_folder):
    data = shutil.copytree(image_folder, tmp_path / "data")
    os.rename(os.fsencode(data / "train" / "red"), os.fsencode(data / "train") + b"/r\xe9d")
    code, _, err = run(
        monkeypatch,
        capsys,
        "train",
        *TINY,
        "--data",
        data,
        "--out",
        tmp_path / "run",
        *QUICK,
        "--cache-dir",
        tmp_path / "cache",
    )
    assert code == 2 and "not valid UTF-8" in err and "r\\xe9d" in err, err
    assert "Traceback" not in err
