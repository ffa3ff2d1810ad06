import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from advisor.cli import cli
from advisor.cli.boards import board_options, resolve_board, resolve_boards
from advisor.errors import AdvisorError

PROMISED_KEYS = {
    "id",
    "flash_bytes",
    "ram_bytes",
    "reserved_flash_bytes",
    "reserved_ram_bytes",
    "clock_hz",
    "core_family",
    "engine",
    "latency_model",
    "latency_ms",
}


def run_advisor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )


def test_boards_json_through_the_real_entry_point():
    result = run_advisor("boards", "--json")
    assert result.returncode == 0, result.stderr
    boards = json.loads(result.stdout)
    assert {board["id"] for board in boards} >= {"arduino-uno", "stm32h7", "rpi3bplus"}
    for board in boards:
        assert set(board) >= PROMISED_KEYS
        assert board["source"] == "board profile"


@pytest.mark.parametrize(
    "args, message",
    [
        (("boards", "show", "stm32h8"), "did you mean stm32h7"),
        (("boards", "show", "--board-file", "/nonexistent/b.toml"), "does not exist"),
        (("boards", "show"), "no board given"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, message):
    result = run_advisor(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_malformed_board_file_exits_2_naming_file_and_field(tmp_path, minimal_profile):
    path = tmp_path / "mine.toml"
    path.write_text(minimal_profile("mine").replace('"128KB"', '"128 furlongs"'))
    result = run_advisor("boards", "show", "--board-file", str(path), "--json")
    assert result.returncode == 2
    assert str(path) in result.stderr and "field ram_bytes" in result.stderr


def test_table_lists_every_board_with_human_sizes():
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["boards"])
    assert result.exit_code == 0, result.output
    for text in ("arduino-uno", "stm32h7", "512 KiB", "480 MHz", "31.5 KiB", "board profile"):
        assert text in result.output


def test_show_prints_every_field_and_the_sources():
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["boards", "show", "nucleo-h743zi"])
    assert result.exit_code == 0, result.output
    for text in (
        "STM32H743ZI",
        "RAM for the arena",
        "496 KiB (507,904 B)",
        "tflm-cmsis-nn",
        "estimated: latency model",
        "nucleo_h743zi.json",
        "stm32h7.toml",
    ):
        assert text in result.output


def test_show_json_is_one_object(minimal_profile, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(minimal_profile("mine"))
    result = CliRunner().invoke(cli, ["boards", "show", "--board-file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    assert board["id"] == "mine" and board["ram_budget_bytes"] == 120 * 1024
    assert board["engine"] == "tflm-cmsis-nn" and board["core_family"] == "cortex-m4f"
    assert board["latency_model"].startswith("estimated: latency model (tflm-cmsis-nn")


def test_user_boards_appear_in_the_listing_and_shadow_warnings_stay_off_stdout(
    user_folder, minimal_profile
):
    (user_folder / "h7.toml").write_text(minimal_profile("stm32h7"))
    (user_folder / "mine.toml").write_text(minimal_profile("mine"))
    result = CliRunner().invoke(cli, ["boards", "--json"])
    assert result.exit_code == 0
    boards = {board["id"]: board for board in json.loads(result.stdout)}
    assert boards["stm32h7"]["clock_hz"] == 100_000_000 and "mine" in boards
    assert "user file wins" in result.stderr


def _single_board_command():
    @click.command()
    @board_options
    def target(board, board_file, engine):
        chosen = resolve_board(board, board_file, engine)
        click.echo(f"{chosen.id} {chosen.engine}")

    return target


def _multi_board_command():
    @click.command()
    @board_options(multiple=True)
    def targets(board, board_file, all_boards, engine):
        click.echo(" ".join(b.id for b in resolve_boards(board, board_file, all_boards, engine)))

    return targets


def test_board_options_single(tmp_path, minimal_profile):
    command = _single_board_command()
    assert CliRunner().invoke(command, ["--board", "uno"]).output.split()[0] == "arduino-uno"
    path = tmp_path / "mine.toml"
    path.write_text(minimal_profile("mine"))
    assert CliRunner().invoke(command, ["--board-file", str(path)]).output.split()[0] == "mine"
    result = CliRunner().invoke(command, ["--board", "stm32h7", "--engine", "x-cube-ai"])
    assert result.output.split() == ["stm32h7", "x-cube-ai"]
    wrong = CliRunner().invoke(command, ["--board", "stm32h7", "--engine", "tinyengine"])
    assert isinstance(wrong.exception, AdvisorError)
    assert "--engine 'tinyengine' is not a known inference engine" in str(wrong.exception)
    both = CliRunner().invoke(command, ["--board", "uno", "--board-file", str(path)])
    assert isinstance(both.exception, AdvisorError) and "not both" in str(both.exception)


def test_board_options_multiple(tmp_path, minimal_profile):
    command = _multi_board_command()
    path = tmp_path / "mine.toml"
    path.write_text(minimal_profile("mine"))
    result = CliRunner().invoke(
        command,
        [
            "--board",
            "stm32h7",
            "--board",
            "uno",
            "--board",
            "nucleo-h743zi",
            "--board-file",
            str(path),
        ],
    )
    assert result.output.split() == ["stm32h7", "arduino-uno", "mine"]
    every = CliRunner().invoke(command, ["--all-boards"]).output.split()
    assert len(every) >= 9 and "rpi3bplus" in every
    none = CliRunner().invoke(command, [])
    assert isinstance(none.exception, AdvisorError) and "--all-boards" in str(none.exception)
