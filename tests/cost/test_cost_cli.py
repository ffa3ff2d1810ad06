"""`advisor cost`: JSON and tables from the cost model; bad input exits 2 with a message."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from advisor.cli.cost import cost
from advisor.config import PhiNetConfig
from advisor.cost import estimate

ARGS = [
    "--alpha",
    "0.25",
    "--beta",
    "1",
    "--t0",
    "6",
    "--layers",
    "7",
    "--resolution",
    "160",
    "--classes",
    "10",
]


def run_advisor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args], capture_output=True, text=True, timeout=60
    )


def test_json_has_the_totals_and_their_source():
    result = CliRunner().invoke(cost, [*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = estimate(PhiNetConfig(0.25, 1, 6, 7, 160))
    assert data["source"] == "cost model"
    for name in ("params", "params_folded", "macs", "peak_ram_bytes", "arena_bytes", "flash_bytes"):
        assert data[name] == getattr(expected, name)
    assert "layers" not in data and "estimate" in data["notes"]["flash_bytes"]
    assert "activation plan" in data["notes"]["peak_ram_bytes"]
    assert "whole tensor arena" in data["notes"]["arena_bytes"]
    assert "TFLite Micro" in data["sources"]["arena_bytes"]


def test_config_file_with_overrides_and_per_layer(tmp_path):
    path = tmp_path / "recommendation.json"
    path.write_text(
        json.dumps(
            {
                "board": "stm32h7",
                "config": {"alpha": 0.35, "beta": 1, "t0": 6, "num_layers": 7, "resolution": 160},
            }
        )
    )
    result = CliRunner().invoke(
        cost,
        [
            "--config",
            str(path),
            "--resolution",
            "96",
            "--no-se",
            "--no-hswish",
            "--channels",
            "1",
            "--divisor",
            "8",
            "--per-layer",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    config = PhiNetConfig(
        0.35, 1, 6, 7, 96, in_channels=1, divisor=8, squeeze_excite=False, h_swish=False
    )
    assert data["config"] == config.to_dict()
    assert data["macs"] == estimate(config).macs
    assert [layer["op"] for layer in data["layers"]][:3] == [
        "DEPTHWISE_CONV_2D",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
    ]


def test_table_labels_every_figure():
    result = CliRunner().invoke(cost, [*ARGS, "--per-layer"], terminal_width=160)
    assert result.exit_code == 0, result.output
    assert result.output.count("cost model") >= 6
    assert "estimate" in result.output and "49,765" in result.output  # model card: 49.8 k


def test_bad_values_exit_2_with_a_message():
    negative = run_advisor("cost", "--alpha", "-0.5", "--beta", "1", "--t0", "6", "--layers", "7")
    assert negative.returncode == 2 and "alpha must be a positive number" in negative.stderr
    missing = run_advisor("cost", "--alpha", "0.5")
    assert missing.returncode == 2 and "--beta" in missing.stderr and "--config" in missing.stderr
    not_a_number = run_advisor("cost", "--alpha", "x")
    assert not_a_number.returncode == 2 and "--alpha" in not_a_number.stderr
    assert "Traceback" not in negative.stderr + missing.stderr + not_a_number.stderr
    assert negative.stdout == missing.stdout == ""
