"""`advisor check` judges latency as its third constraint: exit codes, JSON, the plot."""

import json
import sys

import pytest

pytest.importorskip("tflite_micro")

from advisor.cli import main


@pytest.fixture(autouse=True)
def only_builtin_boards(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def person_detection(latency_data):
    return str(latency_data / "models" / "person_detect_pico.tflite")


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["advisor", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.slow
def test_latency_alone_decides_the_exit_code(monkeypatch, capsys, person_detection):
    """Person detection fits the RP2040's flash and RAM, but not its 100 ms budget (pico-
    tflmicro measured 824 ms); a 2 s budget fits, and so does the STM32H7."""
    code, out, err = run(
        monkeypatch, capsys, "check", person_detection, "--board", "rp2040", "--json"
    )
    assert code == 1
    [fit] = json.loads(out)["boards"]
    assert fit["flash_margin_bytes"] >= 0 and fit["ram_margin_bytes"] >= 0
    assert fit["latency_ms"] > fit["latency_budget_ms"] == 100
    assert "estimated latency" in err and "rp2040" in err
    code, out, _ = run(
        monkeypatch, capsys, "check", person_detection, "--board", "rp2040", "--latency-ms",
        "2000", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["boards"][0]["latency_budget_ms"] == 2000
    code, _, _ = run(monkeypatch, capsys, "check", person_detection, "--board", "stm32h7")
    assert code == 0


def test_json_carries_latency_per_board_and_per_op(monkeypatch, capsys, person_detection):
    code, out, _ = run(
        monkeypatch, capsys, "check", person_detection, "--board", "stm32h7", "--board",
        "esp32s3", "--board", "arduino-uno", "--json",
    )  # fmt: skip
    assert code == 1  # the UNO's 2 KB
    result = json.loads(out)
    boards = {fit["id"]: fit for fit in result["boards"]}
    for board_id, engine in (("stm32h7", "tflm-cmsis-nn"), ("esp32s3", "tflm-esp-nn")):
        fit = boards[board_id]
        assert fit["engine"] == engine and fit["latency_budget_ms"] == 100
        assert fit["latency_source"].startswith(f"estimated: latency model ({engine}")
        per_op = sum(layer["latency_ms"][board_id] for layer in result["layers"])
        assert per_op == pytest.approx(fit["latency_ms"], abs=1e-3)
    uno = boards["arduino-uno"]
    assert uno["latency_ms"] is None and "latency not judged" in uno["latency_note"]
    assert result["macs"] == 7_157_888 == sum(layer["macs"] for layer in result["layers"])
    assert {layer["class"] for layer in result["layers"]} >= {"depthwise", "conv_1x1"}


def test_engine_override_and_bad_engine(monkeypatch, capsys, person_detection):
    code, out, _ = run(
        monkeypatch, capsys, "check", person_detection, "--board", "stm32h7", "--engine",
        "tflm-reference", "--json",
    )  # fmt: skip
    fit = json.loads(out)["boards"][0]
    assert fit["engine"] == "tflm-reference"
    assert code == (0 if fit["latency_ms"] <= 100 else 1)
    code, out, err = run(
        monkeypatch, capsys, "check", person_detection, "--board", "stm32h7", "--engine", "nope"
    )
    assert code == 2 and "not a known inference engine" in err and out == ""


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_plot_writes_a_chart(monkeypatch, capsys, person_detection, tmp_path, suffix, magic):
    path = tmp_path / f"ops{suffix}"
    code, _, _ = run(
        monkeypatch, capsys, "check", person_detection, "--board", "stm32h7", "--plot", str(path)
    )
    assert code == 0 and path.read_bytes().startswith(magic)


def test_cost_plot_and_latency(monkeypatch, capsys, tmp_path):
    path = tmp_path / "phinet.png"
    code, out, _ = run(
        monkeypatch, capsys, "cost", "--alpha", "0.5", "--beta", "1", "--t0", "6", "--layers",
        "7", "--resolution", "96", "--board", "rp2040", "--per-layer", "--json", "--plot",
        str(path),
    )  # fmt: skip
    assert code == 0 and path.read_bytes().startswith(b"\x89PNG")
    latency = json.loads(out)["latency"]
    assert latency["engine"] == "tflm-cmsis-nn" and latency["board"] == "rp2040"
    assert sum(op["latency_ms"] for op in latency["ops"]) == pytest.approx(
        latency["latency_ms"], abs=1e-3
    )
