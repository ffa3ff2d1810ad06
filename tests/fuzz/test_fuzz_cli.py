"""Property-based fuzz of the light commands (boards, cost, recommend, scaling, sweep grid
parsing and store reading): whatever the input, the exit code is 0, 1, 2 or 3, nothing prints
a traceback, nothing is written outside --out, and a store never loses a finished row.

Examples per test come from the Hypothesis profile (tests/conftest.py): `ci` when CI=true,
else `dev`; HYPOTHESIS_PROFILE=long for a longer local run. No training runs here."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

pytest.importorskip("hypothesis")

from fuzz_helpers import (
    NUMBER_TEXT,
    SIZE_TEXT,
    SMALL_POSITIVE,
    TOML_VALUES,
    advisor,
    finite_json,
    toml_value,
    workspace,
)
from hypothesis import given
from hypothesis import strategies as st

VALID_BOARD = {
    "id": "fuzzboard",
    "name": "Fuzz board",
    "chip": "CHIP",
    "core": "Cortex-M4F",
    "clock_hz": "80MHz",
    "flash_bytes": "1MiB",
    "ram_bytes": "96KB",
    "ram_total_bytes": "128KB",
    "reserved_flash_bytes": "128KB",
    "reserved_ram_bytes": "16KB",
    "runtime": "TensorFlow Lite Micro",
    "engine": "tflm-cmsis-nn",
    "latency_ms": 100,
    "aliases": ["fb"],
    "sources": ["fuzz"],
    "notes": "",
}
# per field: keep the valid value, drop the field, or put a generated one in its place
FIELD_EDIT = st.one_of(st.just("keep"), st.just("drop"), TOML_VALUES)


@st.composite
def board_files(draw) -> bytes:
    fields = {}
    for name, value in VALID_BOARD.items():
        edit = draw(FIELD_EDIT) if draw(st.integers(0, 11)) == 0 else "keep"
        if edit == "keep":
            fields[name] = value
        elif edit != "drop":
            fields[name] = edit
    if draw(st.integers(0, 9)) == 0:
        fields[draw(st.sampled_from(["flash_byte", "ram", "gamma", "path"]))] = draw(TOML_VALUES)
    text = "".join(f"{name} = {toml_value(value)}\n" for name, value in fields.items())
    data = text.encode("utf-8")
    tail = draw(st.sampled_from([b"", b"", b"", b"\xff\xfe", b"x = [", b"id = 'dup'\n"]))
    return data + tail


@given(board=board_files())
def test_board_files(board):
    with workspace() as root:
        path = root / "inputs" / "board.toml"
        path.write_bytes(board)
        code, out, _ = advisor(root, "boards", "show", "--board-file", path, "--json")
        assert code in (0, 2)
        if code == 0:
            shown = finite_json(out)
            assert shown["flash_budget_bytes"] > 0 and shown["ram_budget_bytes"] > 0
        code, out, _ = advisor(root, "recommend", "--board-file", path, "--json")
        if code in (0, 3):
            finite_json(out)


BUDGET_FLAGS = {
    "--flash": (st.integers(8, 4096).map(lambda k: f"{k}KB"), SIZE_TEXT),
    "--ram": (st.integers(8, 2048).map(lambda k: f"{k}KiB"), SIZE_TEXT),
    "--macs": (st.integers(10**5, 10**10).map(str), NUMBER_TEXT),
    "--latency-ms": (st.floats(0.5, 1e4).map(repr), NUMBER_TEXT),
    "--resolution": (st.integers(8, 320).map(str), NUMBER_TEXT),
}


@st.composite
def budget_arguments(draw) -> list[str]:
    """Some of the flags with valid values, and at most one with a generated one: most
    examples then reach the solver, the rest probe one validator at a time."""
    flags = draw(st.lists(st.sampled_from(sorted(BUDGET_FLAGS)), unique=True, max_size=4))
    junk = draw(st.sampled_from([None, *flags])) if flags else None
    args = []
    for flag in flags:
        valid, generated = BUDGET_FLAGS[flag]
        args += [flag, draw(generated if flag == junk else valid)]
    return args


@given(board=st.sampled_from(["stm32h7", "stm32l476", "arduino-uno"]), args=budget_arguments())
def test_recommend_budgets(board, args):
    with workspace() as root:
        code, out, _ = advisor(root, "recommend", "--board", board, *args, "--json")
        if code in (0, 3):
            data = finite_json(out)
            if code == 0:
                use = data["use_percent"]
                assert all(v is None or 0 <= v <= 100 for v in use.values()), use


COST_FLAGS = {
    "--alpha": SMALL_POSITIVE.map(str),
    "--beta": SMALL_POSITIVE.map(str),
    "--t0": st.sampled_from(["2", "4", "5.5", "6"]),
    "--layers": st.integers(1, 12).map(str),
    "--resolution": st.integers(1, 512).map(str),
    "--classes": st.integers(1, 1000).map(str),
    "--channels": st.integers(1, 16).map(str),
    "--divisor": st.integers(1, 16).map(str),
}
REQUIRED_COST_FLAGS = ("--alpha", "--beta", "--t0", "--layers")


@st.composite
def cost_arguments(draw) -> list[str]:
    optional = sorted(set(COST_FLAGS) - set(REQUIRED_COST_FLAGS))
    flags = [*REQUIRED_COST_FLAGS, *draw(st.lists(st.sampled_from(optional), unique=True))]
    junk = draw(st.sampled_from([None, None, *flags]))
    args = []
    for flag in flags:
        args += [flag, draw(NUMBER_TEXT if flag == junk else COST_FLAGS[flag])]
    return args


@given(args=cost_arguments())
def test_cost_arguments(args):
    with workspace() as root:
        code, out, _ = advisor(root, "cost", *args, "--json")
        assert code in (0, 2)
        if code == 0:
            data = finite_json(out)
            assert all(data[key] > 0 for key in ("params", "macs", "flash_bytes")), data


RESULT_COLUMNS = ("alpha", "beta", "t0", "N", "resolution", "dataset", "epochs", "params")
PLAUSIBLE = {
    "alpha": SMALL_POSITIVE,
    "beta": st.sampled_from([0.75, 1.05, 1.35]),
    "t0": st.sampled_from([4, 5, 6]),
    "N": st.integers(4, 9),
    "resolution": st.just(32),
    "dataset": st.just("CIFAR-10"),
    "epochs": st.just(10),
    "params": st.integers(1_000, 10_000_000),
    "accuracy": st.floats(10, 95),
}
JUNK_CELL = st.one_of(NUMBER_TEXT, st.none(), st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def results_rows(draw) -> list[dict]:
    columns = [c for c in (*RESULT_COLUMNS, "accuracy") if draw(st.integers(0, 60))]
    rows = [
        {column: draw(PLAUSIBLE[column]) for column in columns}
        for _ in range(draw(st.integers(0, 40)))
    ]
    if rows and draw(st.booleans()):  # one junk cell somewhere
        row = draw(st.sampled_from(rows))
        row[draw(st.sampled_from(columns))] = draw(JUNK_CELL)
    return rows


def write_results(path, rows, kind) -> None:
    if kind == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return
    buffer = io.StringIO()
    fields = list(rows[0]) if rows else list(RESULT_COLUMNS)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@given(rows=results_rows(), kind=st.sampled_from(["csv", "jsonl"]))
def test_results_files(rows, kind):
    with workspace() as root:
        path = root / "inputs" / f"results.{kind}"
        write_results(path, rows, kind)
        advisor(root, "scaling", "segment", path, "--json")
        advisor(root, "scaling", "fit", path, "--out", root / "out" / "prior.json", "--folds", "3")
        advisor(root, "scaling", "cv", path, "--folds", "3", "--json")


GRID_KEYS = st.sampled_from(["alpha", "beta", "t0", "num_layers", "N", "configs", "gamma"])


@st.composite
def grid_files(draw) -> tuple[str, str]:
    suffix = draw(st.sampled_from(["toml", "json"]))
    value = st.one_of(SMALL_POSITIVE, SMALL_POSITIVE, st.integers(1, 9), JUNK_CELL)
    if draw(st.booleans()):  # factor lists: the four, sometimes a key more or less
        keys = ["alpha", "beta", "t0", draw(st.sampled_from(["num_layers", "N"]))]
        keys = (
            draw(st.lists(GRID_KEYS, max_size=2, unique=True))
            if draw(st.integers(0, 4)) == 0
            else keys
        )
        data = {key: draw(st.lists(value, min_size=1, max_size=3)) for key in keys}
    else:  # explicit configs
        config = st.fixed_dictionaries(
            {"alpha": value, "beta": value, "t0": value, "N": value},
            optional={"gamma": value, "num_layers": value},
        )
        data = {"configs": draw(st.lists(config, max_size=3))}
    if suffix == "json":
        return suffix, json.dumps(data)
    lines = []
    for key, value in data.items():
        if key == "configs" and all(isinstance(entry, dict) for entry in value):
            for entry in value:
                lines.append("[[configs]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in entry.items() if v is not None]
        else:
            lines.append(f"{key} = {toml_value([v for v in value if v is not None])}")
    return suffix, "\n".join(lines) + "\n"


@given(grid=grid_files())
def test_grid_files(grid):
    suffix, text = grid
    with workspace() as root:
        path = root / "inputs" / f"grid.{suffix}"
        path.write_text(text, encoding="utf-8")
        store = root / "out" / "sweep.db"
        advisor(
            root, "sweep", "--grid", path, "--data", "cifar10", "--resolution", "32",
            "--epochs", "2", "--warmup-epochs", "0", "--store", store, "--limit", "0", "--json",
        )  # fmt: skip


STATUSES = st.sampled_from(["done", "done", "failed", "running"])


def done_rows(path) -> dict[str, tuple]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            row[0]: row[1:]
            for row in connection.execute(
                "SELECT run_id, params, accuracy, alpha FROM runs WHERE status = 'done'"
            )
        }
    finally:
        connection.close()


@given(
    runs=st.lists(
        st.tuples(STATUSES, SMALL_POSITIVE, st.integers(4, 9), st.integers(1000, 10**7),
                  st.floats(0, 100)),
        max_size=25,
    ),
    foreign_table=st.booleans(),
)  # fmt: skip
def test_store_readers_lose_no_finished_row(runs, foreign_table):
    from advisor.sweep.grid import GridPoint
    from advisor.sweep.regime import Regime, run_id
    from advisor.sweep.store import SweepStore
    from advisor.sweep.worker import RunTask

    recipe = {"resolution": 32, "epochs": 2, "warmup_epochs": 0, "lr": 0.01, "seed": 0}
    regime = Regime.from_recipe("cifar10", recipe)
    with workspace() as root:
        store = root / "inputs" / "sweep.db"
        if foreign_table:
            connection = sqlite3.connect(store)
            connection.execute("CREATE TABLE customers (id INTEGER)")
            connection.commit()
            connection.close()
        else:
            with SweepStore(store) as opened:
                for status, alpha, n, params, accuracy in runs:
                    point = GridPoint(alpha, 1.0, 4, n)
                    task = RunTask(run_id(point, regime, 0), point, regime, recipe, "d", "o")
                    row = dict(task.base_row(), status=status, params=params, accuracy=accuracy)
                    if status == "running":
                        opened.mark_running([row])
                    else:
                        opened.record(row)
        before = store.read_bytes()
        done = {} if foreign_table else done_rows(store)
        exported = root / "out" / "runs.csv"
        code, _, _ = advisor(root, "sweep", "--store", store, "--export", exported)
        if foreign_table:
            assert code == 2
        else:
            assert code == 0
            with exported.open(encoding="utf-8") as handle:
                assert sorted(r["run_id"] for r in csv.DictReader(handle)) == sorted(done)
        advisor(root, "scaling", "fit", "--store", store, "--out", root / "out" / "p.json",
                "--folds", "3")  # fmt: skip
        grid = root / "inputs" / "grid.json"
        grid.write_text('{"configs": [{"alpha": 0.5, "beta": 1, "t0": 4, "N": 5}]}')
        code, _, _ = advisor(
            root, "sweep", "--grid", grid, "--data", "cifar10", "--resolution", "32",
            "--epochs", "2", "--warmup-epochs", "0", "--store", store, "--limit", "0",
            "--allow-mixed-regimes",
        )  # fmt: skip
        if foreign_table:
            assert code == 2 and store.read_bytes() == before
        else:
            assert done_rows(store) == done


SWEEP_FLAGS = {
    "--resolution": st.integers(8, 64).map(str),
    "--epochs": st.integers(1, 200).map(str),
    "--warmup-epochs": st.integers(0, 5).map(str),
    "--batch-size": st.integers(1, 512).map(str),
    "--lr": st.floats(1e-5, 1.0).map(repr),
    "--seed": st.integers(0, 2**31).map(str),
    "--order": st.sampled_from(["small-first", "grid"]),
}


@st.composite
def sweep_arguments(draw) -> list[str]:
    optional = sorted(set(SWEEP_FLAGS) - {"--resolution", "--epochs"})
    flags = ["--resolution", "--epochs", *draw(st.lists(st.sampled_from(optional), unique=True))]
    junk = draw(st.sampled_from([None, None, *flags]))
    args = []
    for flag in flags:
        args += [flag, draw(NUMBER_TEXT if flag == junk else SWEEP_FLAGS[flag])]
    return args


@given(args=sweep_arguments())
def test_sweep_options(args):
    """--limit 0 plans the study's grid into a store and trains nothing."""
    with workspace() as root:
        store = root / "out" / "sweep.db"
        code, out, _ = advisor(
            root, "sweep", "--grid", "study", "--data", "cifar10", *args, "--store", store,
            "--limit", "0", "--json",
        )  # fmt: skip
        if code == 0:
            summary = finite_json(out)
            assert summary["ran_now"] == 0
