"""`advisor check MODEL.tflite --board ID --emulate`: the JSON of an emulated run, and the
skip (exit 0, reason and fix) when the TFLite Micro tree is missing."""

from __future__ import annotations

import json
import sys

import pytest

from advisor.cli import main


@pytest.fixture(autouse=True)
def only_builtin_boards(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def model_path(small_model, tmp_path):
    path = tmp_path / "small.tflite"
    path.write_bytes(small_model.int8)
    return path


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["advisor", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.slow
def test_emulate_reports_the_target_figures(monkeypatch, capsys, tools, model_path):
    code, out, _ = run(
        monkeypatch,
        capsys,
        "check",
        str(model_path),
        "--board",
        "stm32f746",
        "--emulate",
        "--emulate-images",
        "3",
        "--json",
    )
    assert code == 0
    [run_] = json.loads(out)["emulation"]
    assert run_["status"] == "ran" and run_["errors"] == []
    assert (run_["core"], run_["machine"], run_["kernels"]) == (
        "Cortex-M7",
        "mps2-an500",
        "cmsis_nn",
    )
    assert run_["outputs_vs_host"]["images"] == 3 and run_["outputs_vs_host"]["ok"] is True
    assert run_["arena_used_bytes"]["value"] <= run_["host_arena_bytes"]["value"]
    assert run_["board"]["board_id"] == "stm32f746" and run_["board"]["fits"] is True
    assert run_["instructions_per_inference"]["inferences_counted"] == 3
    assert "not cycles" in run_["instructions_per_inference"]["source"]


def test_missing_tree_skips_the_emulation_with_the_reason(
    monkeypatch, capsys, tmp_path, model_path
):
    code, out, _ = run(
        monkeypatch,
        capsys,
        "check",
        str(model_path),
        "--board",
        "stm32h7",
        "--emulate",
        "--tflm-dir",
        str(tmp_path / "no-tree"),
        "--json",
    )
    assert code == 0  # a skipped proof is not a failed one
    [run_] = json.loads(out)["emulation"]
    assert run_["status"] == "skipped" and run_["install"]
    assert "no TensorFlow Lite Micro tree" in run_["reason"] or "not on PATH" in run_["reason"]


def test_board_without_an_emulated_core_is_skipped(monkeypatch, capsys, model_path):
    code, out, _ = run(
        monkeypatch, capsys, "check", str(model_path), "--board", "rp2040", "--emulate", "--json"
    )
    [run_] = json.loads(out)["emulation"]
    assert run_["status"] == "skipped" and "Cortex-M0" in run_["reason"]
    assert code in (0, 1)  # the model may or may not fit the rp2040's budgets
