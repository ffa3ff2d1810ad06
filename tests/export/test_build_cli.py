"""`advisor build` end to end on a tiny generated image folder: train, export, verify,
bundle; a board it does not fit gives exit 1 and keeps every file."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from synthetic_images import write_colour_folder

from advisor.cli import main
from advisor.export.firmware import read_array

pytestmark = pytest.mark.slow  # trains, converts and verifies a model per test (about 20 s)

TINY = {"alpha": 0.25, "beta": 1.0, "t0": 3, "num_layers": 4, "resolution": 16}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("build-inputs")
    data = write_colour_folder(root / "colours", {"train": 24, "test": 8})
    config = root / "config.json"
    config.write_text(json.dumps(TINY))
    return data, config, root / "cache"


def run_build(monkeypatch, capsys, inputs, out: Path, board: str, *extra: str) -> int:
    data, config, cache = inputs
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "advisor",
            "build",
            "--board",
            board,
            "--data",
            str(data),
            "--config",
            str(config),
            "--epochs",
            "2",
            "--out",
            str(out),
            "--calibration-images",
            "16",
            "--verify-images",
            "0",
            "--split",
            "test+val",
            "--cache-dir",
            str(cache),
            "--json",
            *extra,
        ],
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
        raise SystemExit(0)
    return exit_info.value.code


def test_build_bundles_a_verified_model(monkeypatch, capsys, inputs, tmp_path):
    out = tmp_path / "build"
    assert run_build(monkeypatch, capsys, inputs, out, "stm32h7") == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads((out / "report.json").read_text())
    assert report["fits"] is True
    tflite = (out / "model.tflite").read_bytes()
    export = report["export"]
    assert export["model_bytes"]["value"] == len(tflite)
    assert read_array(out / "firmware" / "model_data.cc") == tflite
    assert (out / "model.onnx").stat().st_size > 0
    assert export["float_tflite_max_abs_diff"]["value"] < 1e-4
    verification = export["verification"]
    assert verification["samples"] == 24  # every test image (--verify-images 0)
    assert verification["tflm_tflite_equal_fraction"] == 1.0
    assert verification["tflm_torch_top1_agreement"] >= 0.8
    assert report["config"]["num_classes"] == 3  # from the data
    assert sorted(report["classes"]) == ["blue", "green", "red"]
    assert "measured: TFLite Micro" in export["arena_bytes"]["source"]
    markdown = (out / "report.md").read_text()
    assert "fits" in markdown and f"{len(tflite):,} B" in markdown
    # the bundle built for the board's Cortex-M7 and run under QEMU, when the tools are here
    [emulated] = export["emulation"]
    assert emulated["core"] == "Cortex-M7" and emulated["kernels"] == "cmsis_nn"
    if emulated["status"] == "ran":
        assert emulated["errors"] == [] and emulated["outputs_vs_host"]["ok"] is True
        assert emulated["board"]["fits"] is True
        assert emulated["image"]["flash_breakdown"]["model array"] >= len(tflite)
        assert (out / "emulated" / "stm32h7-m7-cmsis_nn" / "firmware.elf").is_file()
        assert "On the target: Cortex-M7" in markdown
    else:
        assert emulated["status"] == "skipped" and emulated["install"]


def test_build_that_does_not_fit_exits_1_and_keeps_files(monkeypatch, capsys, inputs, tmp_path):
    out = tmp_path / "uno"
    assert run_build(monkeypatch, capsys, inputs, out, "arduino-uno") == 1
    captured = capsys.readouterr()
    assert "does not fit arduino-uno" in captured.err
    report = json.loads((out / "report.json").read_text())
    assert report["fits"] is False and report["export"]["boards"][0]["fits"] is False
    [emulated] = report["export"]["emulation"]  # an AVR board: not emulated, and it says why
    assert emulated["status"] == "skipped" and "not an Arm Cortex-M" in emulated["reason"]
    assert (out / "model.tflite").is_file() and (out / "firmware" / "model_config.h").is_file()


def test_build_with_qat_reports_both_rows_and_keeps_the_better(
    monkeypatch, capsys, inputs, tmp_path
):
    out = tmp_path / "qat"
    assert run_build(monkeypatch, capsys, inputs, out, "stm32h7", "--qat", "always") == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["int8"]["rows"]
    assert [row["method"] for row in rows] == ["ptq", "qat"]
    assert rows[0]["activation_ranges"].startswith("percentile")  # the default --ranges
    assert rows[1]["activation_ranges"].startswith("quantization-aware")
    assert sum(row["kept"] for row in rows) == 1
    kept = next(row for row in rows if row["kept"])
    other = next(row for row in rows if not row["kept"])
    assert kept["files"] == str(out)
    assert (Path(other["files"]) / "model.tflite").is_file()
    assert kept["int8_top1"]["value"] >= other["int8_top1"]["value"]
    assert report["export"]["verification"]["int8_top1"] == kept["int8_top1"]["value"]
    assert "TFLite Micro" in kept["int8_top1"]["source"]
    assert rows[1]["qat"]["epochs_completed"] == 1
    assert (out / "training" / "qat" / "qat_last.pt").is_file()
    assert read_array(out / "firmware" / "model_data.cc") == (out / "model.tflite").read_bytes()
    assert "post-training vs quantization-aware" in (out / "report.md").read_text()


def test_build_qat_never_keeps_post_training_only(monkeypatch, capsys, inputs, tmp_path):
    out = tmp_path / "ptq"
    args = ("--qat", "never", "--ranges", "minmax")
    assert run_build(monkeypatch, capsys, inputs, out, "stm32h7", *args) == 0
    rows = json.loads(capsys.readouterr().out)["int8"]["rows"]
    assert [(row["method"], row["kept"]) for row in rows] == [("ptq", True)]
    assert rows[0]["activation_ranges"].startswith("converter: min/max")
    assert not (out / "qat").exists() and not (out / "training" / "qat").exists()


def test_build_with_hostile_class_names_writes_firmware_that_compiles(
    monkeypatch, capsys, inputs, tmp_path
):
    from advisor.export.compile_check import available_compilers

    data = tmp_path / "hostile"
    shutil.copytree(inputs[0], data)
    names = {"red": 'r"e\\d\r*', "green": "gr??=een\t", "blue": "bl\u00fc \u732b"}
    for split in ("train", "test"):
        for old, new in names.items():
            (data / split / old).rename(data / split / new)
    out = tmp_path / "build"
    assert run_build(monkeypatch, capsys, (data, *inputs[1:]), out, "stm32h7") == 0
    report = json.loads(capsys.readouterr().out)
    compiled = [check["compiler"] for check in report["export"]["firmware_compiles"]["value"]]
    assert compiled == list(available_compilers())
    markdown = (out / "report.md").read_text()
    assert ("compile with" if compiled else "no C++ compiler") in markdown
    config = (out / "firmware" / "model_config.h").read_bytes()
    assert b"\r" not in config and b"??" not in config and b"*/" not in config
    assert sorted(report["classes"]) == sorted(names.values())
