from pathlib import Path

import pytest

from advisor.boards import Board, board_from_toml, list_boards, load_board
from advisor.boards.registry import BUILTIN_DIR
from advisor.errors import AdvisorError

STUDY_BOARDS = {"arduino-uno", "stm32l476", "stm32h7", "msp432p4111", "rpi3bplus"}
EXTRA_BOARDS = {"nano33ble", "esp32s3", "rp2040", "stm32f746"}


@pytest.mark.parametrize("path", sorted(BUILTIN_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_builtin_profile_parses_and_is_named_after_its_id(path):
    board = board_from_toml(path)
    assert board.id == path.stem
    assert board.sources, "a built-in profile names its sources"
    assert board.engine and board.core_family
    assert 0 < board.flash_budget_bytes < board.flash_bytes or board.reserved_flash_bytes == 0
    assert 0 < board.ram_budget_bytes < board.ram_bytes
    assert board.ram_bytes <= board.ram_total_bytes


def test_the_required_boards_are_built_in():
    ids = {board.id for board in list_boards(include_user=False)}
    assert ids >= STUDY_BOARDS | EXTRA_BOARDS


def test_figures_from_the_board_table():
    h7 = load_board("stm32h7")
    assert (h7.clock_hz, h7.flash_bytes) == (480_000_000, 2 * 1024**2)
    assert (h7.ram_bytes, h7.ram_total_bytes) == (512 * 1024, 1024**2)
    uno = load_board("arduino-uno")
    assert (uno.flash_bytes, uno.ram_bytes, uno.clock_hz) == (32256, 2048, 16_000_000)
    l476 = load_board("stm32l476")
    assert (l476.ram_bytes, l476.ram_total_bytes) == (96 * 1024, 128 * 1024)


def test_budgets_subtract_the_reserves():
    h7 = load_board("stm32h7")
    assert h7.flash_budget_bytes == h7.flash_bytes - h7.flash_reserve().reserve_bytes
    assert h7.ram_budget_bytes == h7.ram_bytes - h7.reserved_ram_bytes
    rp2040 = load_board("rp2040")  # no measured runtime for Cortex-M0+: the assumed reserve
    assert rp2040.flash_budget_bytes == rp2040.flash_bytes - rp2040.reserved_flash_bytes


def test_every_board_names_a_core_and_engine_the_latency_model_knows():
    for board in list_boards(include_user=False):
        if board.core_family == "avr":
            with pytest.raises(AdvisorError, match="no calibration for core 'avr'"):
                board.latency_model()
            continue
        model = board.latency_model()
        assert model.engine == board.engine and model.core == board.core_family
        assert model.source.startswith(f"estimated: latency model ({board.engine}, calibrated on")


@pytest.mark.parametrize("board_id", ["stm32l476", "nano33ble", "msp432p401r", "msp432p4111"])
def test_thin_data_boards_say_so(board_id):
    board = load_board(board_id)
    assert "Thin data" in board.notes
    assert "no published latency" in board.latency_note()
    assert board.to_dict()["latency_note"] == board.latency_note()


def test_a_user_board_may_name_any_known_core_and_engine(tmp_path, minimal_profile):
    text = minimal_profile("m33").replace('core = "Cortex-M4F"', 'core = "Cortex-M33"')
    path = tmp_path / "m33.toml"
    path.write_text(text.replace('clock_hz = "100MHz"', 'clock_hz = "200MHz"'))
    board = load_board(board_file=path)
    assert (board.core_family, board.engine, board.clock_hz) == (
        "cortex-m33",
        "tflm-cmsis-nn",
        200_000_000,
    )
    assert board.latency_model().calibration_rows > 0  # RA6M4 rows, MLPerf Tiny


@pytest.mark.parametrize(
    "alias, board_id",
    [
        ("uno", "arduino-uno"),
        ("nucleo-h743zi", "stm32h7"),
        ("NUCLEO-H743ZI", "stm32h7"),
        ("pico", "rp2040"),
        ("stm32h7", "stm32h7"),
    ],
)
def test_aliases_resolve(alias, board_id):
    assert load_board(alias).id == board_id


def test_unknown_id_names_the_closest_ids():
    with pytest.raises(AdvisorError, match=r"unknown board 'stm32h8'.*did you mean stm32h7"):
        load_board("stm32h8")
    with pytest.raises(AdvisorError, match=r"did you mean arduino-uno"):
        load_board("arduino-unoo")


def test_exactly_one_of_id_and_file():
    with pytest.raises(AdvisorError, match="exactly one"):
        load_board()
    with pytest.raises(AdvisorError, match="exactly one"):
        load_board("stm32h7", board_file="x.toml")


def test_with_overrides_validates_and_parses_sizes():
    h7 = load_board("stm32h7")
    changed = h7.with_overrides(reserved_ram_bytes="32KB", latency_ms=50)
    assert changed.ram_budget_bytes == 480 * 1024
    assert changed.latency_ms == 50
    assert h7.with_overrides(engine="x-cube-ai").latency_model().engine == "x-cube-ai"
    with pytest.raises(AdvisorError, match="engine 'tvm' is not a known inference engine"):
        h7.with_overrides(engine="tvm")
    assert h7.reserved_ram_bytes == 16 * 1024, "the original is unchanged"
    with pytest.raises(AdvisorError, match="reserved_ram_bytes .* leaves nothing"):
        h7.with_overrides(reserved_ram_bytes="512KB")
    with pytest.raises(AdvisorError, match="clock_hz must be a positive number"):
        h7.with_overrides(clock_hz=0)
    with pytest.raises(AdvisorError, match="did you mean ram_bytes"):
        h7.with_overrides(ram_byte=1)


def test_to_dict_carries_the_fields_the_cli_json_promises():
    data = load_board("stm32h7").to_dict()
    for key in (
        "id",
        "flash_bytes",
        "ram_bytes",
        "reserved_flash_bytes",
        "reserved_ram_bytes",
        "clock_hz",
        "engine",
        "latency_model",
        "latency_ms",
        "sources",
        "path",
    ):
        assert key in data
    reserve = data["flash_reserve"]["reserve_bytes"]
    assert data["flash_budget_bytes"] == data["flash_bytes"] - reserve
    assert "measured: linked image under QEMU" in data["flash_budget_source"]


def test_board_is_frozen():
    board = load_board("stm32h7")
    with pytest.raises(AttributeError):
        board.ram_bytes = 1  # type: ignore[misc]


def test_user_folder_profiles_are_listed(user_folder, minimal_profile):
    (user_folder / "myboard.toml").write_text(minimal_profile(id="myboard"))
    boards = {board.id: board for board in list_boards()}
    assert "myboard" in boards and "stm32h7" in boards
    mine = load_board("myboard")
    assert mine.ram_total_bytes == mine.ram_bytes == 128 * 1024, "total defaults to ram_bytes"
    assert mine.path == str(user_folder / "myboard.toml")
    assert "myboard" not in {board.id for board in list_boards(include_user=False)}


def test_user_profile_shadowing_a_builtin_wins_with_a_warning(user_folder, capsys, minimal_profile):
    (user_folder / "my-h7.toml").write_text(minimal_profile(id="stm32h7"))
    board = load_board("stm32h7")
    assert board.clock_hz == 100_000_000 and board.path.startswith(str(user_folder))
    warning = capsys.readouterr().err
    assert "overrides the built-in 'stm32h7'" in warning and "user file wins" in warning
    assert str(user_folder / "my-h7.toml") in warning


def test_the_shadow_warning_is_printed_once(user_folder, capsys, minimal_profile):
    (user_folder / "other-h7.toml").write_text(minimal_profile("stm32h7"))
    load_board("stm32h7")
    load_board("uno")
    assert capsys.readouterr().err.count("overrides the built-in") == 1


def test_two_user_profiles_with_one_id_are_an_error(user_folder, minimal_profile):
    (user_folder / "a.toml").write_text(minimal_profile("twin"))
    (user_folder / "b.toml").write_text(minimal_profile("twin"))
    with pytest.raises(AdvisorError, match=r"a.toml and .*b.toml share the id 'twin'"):
        list_boards()


def test_user_profile_shadowing_an_alias_replaces_that_board(user_folder, capsys, minimal_profile):
    (user_folder / "uno.toml").write_text(minimal_profile(id="uno"))
    ids = {board.id for board in list_boards()}
    assert "uno" in ids and "arduino-uno" not in ids
    assert "overrides the built-in 'arduino-uno'" in capsys.readouterr().err


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.replace('ram_bytes = "128KB"', 'ram_bytes = "128QB"'),
            r"field ram_bytes: unknown unit 'QB'",
        ),
        (
            lambda t: t + "macs_per_cycle = 0.25\n",
            r"field macs_per_cycle is no longer used: replace it with engine",
        ),
        (
            lambda t: t.replace('engine = "tflm-cmsis-nn"', 'engine = "tinyengine"'),
            r"field engine 'tinyengine' is not a known inference engine; use one of",
        ),
        (
            lambda t: t.replace('core = "Cortex-M4F"', 'core = "Cortex-M99"'),
            r"field core 'Cortex-M99' is not a core family the latency model knows",
        ),
        (
            lambda t: t.replace("latency_ms = 50", "latency_ms = -5"),
            r"field latency_ms must be a positive number",
        ),
        (lambda t: t.replace('clock_hz = "100MHz"\n', ""), r"missing field\(s\) clock_hz"),
        (
            lambda t: t + "flash_byte = 3\n",
            r"unknown field\(s\) flash_byte \(did you mean flash_bytes\?\)",
        ),
        (lambda t: t.replace('name = "Test board"', "name = [1]"), r"field name must be a string"),
        (lambda t: t + 'aliases = "x"\n', r"field aliases must be a list of strings"),
        (lambda t: t + 'ram_total_bytes = "64KB"\n', r"field ram_total_bytes .* smaller"),
        (
            lambda t: t.replace("latency_ms = 50", 'latency_ms = "fast"'),
            r"field latency_ms must be a number",
        ),
        (lambda t: t + 'path = "/x"\n', r"unknown field\(s\) path"),
        (lambda t: t.replace('id = "x"', 'id = "x'), r"malformed TOML"),
    ],
)
def test_malformed_profiles_name_the_file_and_the_field(tmp_path, edit, message, minimal_profile):
    path = _write(tmp_path, edit(minimal_profile(id="x")))
    with pytest.raises(AdvisorError, match=message) as raised:
        load_board(board_file=path)
    assert str(path) in str(raised.value)


def test_missing_board_file_says_so(tmp_path):
    with pytest.raises(AdvisorError, match="does not exist"):
        load_board(board_file=tmp_path / "nope.toml")


def test_a_broken_user_profile_stops_listing_with_its_name(user_folder):
    (user_folder / "broken.toml").write_text("id = ")
    with pytest.raises(AdvisorError, match="broken.toml: malformed TOML"):
        list_boards()


def test_direct_construction_is_validated():
    with pytest.raises(AdvisorError, match="flash_bytes must be a positive number"):
        Board(
            id="b",
            name="B",
            chip="c",
            core="Cortex-M4",
            clock_hz=1,
            flash_bytes=0,
            ram_bytes=1,
            ram_total_bytes=1,
            reserved_flash_bytes=0,
            reserved_ram_bytes=0,
            engine="tflm-cmsis-nn",
            runtime="r",
            latency_ms=1.0,
        )
