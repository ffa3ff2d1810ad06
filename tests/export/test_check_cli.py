"""`advisor check`: the real entry point, its JSON and its exit codes."""

from __future__ import annotations

import json
import sys

import pytest
from import_guard import guarded_run

from advisor.boards import load_board
from advisor.cli import main


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["advisor", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_fits_a_large_board_and_reports_measurements(monkeypatch, capsys, int8_path, exported):
    code, out, _ = run(monkeypatch, capsys, "check", str(int8_path), "--board", "stm32h7", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["model_bytes"] == len(exported.int8)
    assert result["arena_bytes"] == exported.arena.arena_bytes
    assert result["firmware_arena_bytes"] > result["arena_bytes"]
    assert "PAD" in result["ops"] and result["full_int8"] is True
    board = load_board("stm32h7")
    [fit] = result["boards"]
    assert {key: fit[key] for key in ("id", "fits", "flash_margin_bytes", "ram_margin_bytes")} == {
        "id": "stm32h7",
        "fits": True,
        "flash_margin_bytes": board.flash_budget_bytes - len(exported.int8),
        "ram_margin_bytes": board.ram_budget_bytes - result["arena_bytes"],
    }
    assert fit["engine"] == "tflm-cmsis-nn" and fit["latency_budget_ms"] == board.latency_ms
    assert 0 < fit["latency_ms"] <= board.latency_ms
    assert {"model_bytes", "arena_bytes", "boards"} <= result["sources"].keys()


def test_does_not_fit_the_uno(monkeypatch, capsys, int8_path):
    code, out, err = run(
        monkeypatch,
        capsys,
        "check",
        str(int8_path),
        "--board",
        "arduino-uno",
        "--board",
        "stm32h7",
        "--json",
    )
    assert code == 1
    fits = {b["id"]: b["fits"] for b in json.loads(out)["boards"]}
    assert fits == {"arduino-uno": False, "stm32h7": True}
    assert "arduino-uno" in err and "over budget" in err


def test_table_output(monkeypatch, capsys, int8_path):
    code, out, _ = run(monkeypatch, capsys, "check", str(int8_path), "--board", "stm32l476")
    assert code == 0
    assert "stm32l476" in out and "measured" in out


@pytest.mark.parametrize(
    "content, message", [(b"not a model at all", "not a TFLite model"), (None, "does not exist")]
)
def test_bad_input_exits_2(monkeypatch, capsys, tmp_path, content, message):
    path = tmp_path / "model.tflite"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(monkeypatch, capsys, "check", str(path), "--board", "stm32h7")
    assert code == 2
    assert message in err and out == ""


def test_no_board_exits_2(monkeypatch, capsys, int8_path):
    code, _, err = run(monkeypatch, capsys, "check", str(int8_path))
    assert code == 2 and "--board" in err


def test_unsupported_op_exits_2_and_is_named(monkeypatch, capsys, tmp_path, unsupported_model):
    path = tmp_path / "topk.tflite"
    path.write_bytes(unsupported_model)
    code, _, err = run(monkeypatch, capsys, "check", str(path), "--board", "stm32h7")
    assert code == 2 and "TOPK_V2" in err


def test_check_needs_neither_torch_nor_tensorflow(int8_path, tmp_path):
    """The CI example installs only mcu-advisor and tflite-micro: any attempt to import torch or
    TensorFlow is refused and recorded (see tests/import_guard.py)."""
    argv = ["check", str(int8_path), "--board", "stm32h7", "--json"]
    code, attempted, process = guarded_run(
        tmp_path, argv=argv, heavy=("torch", "tensorflow", "keras")
    )
    assert code == 0, process.stderr
    assert attempted == []


def test_a_corrupt_model_is_blamed_not_the_arena(monkeypatch, capsys, tmp_path, int8_path):
    """16 random bytes in the model's flatbuffer tables: where TFLM's loader fails, it fails at
    any arena size, which used to be reported as 'could not run the model in a
    1,073,741,824 B arena'. Some corruptions hit harmless bytes (a name) and still run, some
    are caught before TFLM by the flatbuffer reader ('corrupt or truncated')."""
    import numpy as np

    original = int8_path.read_bytes()
    blamed_on_the_model = 0
    for seed in range(12):
        data = bytearray(original)
        rng = np.random.default_rng(seed)
        start = int(rng.integers(64, len(data) // 50))
        data[start : start + 16] = rng.integers(0, 256, 16).astype(np.uint8).tobytes()
        path = tmp_path / f"corrupt{seed}.tflite"
        path.write_bytes(bytes(data))
        code, _out, err = run(monkeypatch, capsys, "check", str(path), "--board", "stm32h7")
        assert "Traceback" not in err and "could not run the model in a" not in err, err
        assert code in (0, 2), err
        blamed_on_the_model += "cannot load the model" in err
    assert blamed_on_the_model >= 1, "no corruption reached TFLite Micro: pick other bytes"


def test_a_float_model_is_not_full_int8_and_exits_1_unless_allowed(
    monkeypatch, capsys, tmp_path, exported
):
    from advisor.export.convert import to_tflite

    path = tmp_path / "float.tflite"
    path.write_bytes(to_tflite(exported.config, exported.model.state_dict()))
    code, out, err = run(monkeypatch, capsys, "check", str(path), "--board", "stm32h7", "--json")
    assert code == 1
    result = json.loads(out)
    assert result["full_int8"] is False and result["full_int8_problems"]
    assert result["boards"][0]["fits"] is True  # memory alone would have said it fits
    assert "not a full-int8 model" in err and "FLOAT32" in err and "--allow-float" in err
    code, _out, _err = run(
        monkeypatch, capsys, "check", str(path), "--board", "stm32h7", "--allow-float"
    )
    assert code == 0
