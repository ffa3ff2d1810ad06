"""The results table: one row per trained network, read from CSV, JSON lines or a sweep's
SQLite store, validated on load.

Columns (required): alpha, beta, t0, num_layers (alias "N"), resolution, dataset, epochs,
params, accuracy (percent, top-1 on the test split), source (where the row came from).
Optional: macs, peak_ram_bytes, seed, seconds. A CSV or JSON-lines row without a
"source" gets the file's path as its source.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advisor.errors import AdvisorError
from advisor.files import read_text
from advisor.validation import MAX_LAYERS

NUMERIC_COLUMNS = (
    "alpha",
    "beta",
    "t0",
    "num_layers",
    "resolution",
    "epochs",
    "params",
    "accuracy",
)
TEXT_COLUMNS = ("dataset", "source")
REQUIRED_COLUMNS = NUMERIC_COLUMNS + TEXT_COLUMNS
OPTIONAL_COLUMNS = ("macs", "peak_ram_bytes", "seed", "seconds")
ALIASES = {"N": "num_layers"}
# how the accuracy column is written: "auto" takes percent and refuses a table whose accuracies
# all lie in [0, 1] (fractions, almost surely); "percent" takes it as written; "fraction" x 100
ACCURACY_SCALES = ("auto", "percent", "fraction")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@dataclass(frozen=True)
class ResultsTable:
    """Columns as numpy arrays (text columns as object arrays); `path` is where it was read."""

    columns: dict[str, np.ndarray]
    path: str = "<memory>"

    def __len__(self) -> int:
        return len(self.columns["params"])

    @property
    def params(self) -> np.ndarray:
        return self.columns["params"]

    @property
    def accuracy(self) -> np.ndarray:
        return self.columns["accuracy"]

    @property
    def num_layers(self) -> np.ndarray:
        return self.columns["num_layers"].astype(int)

    def n_values(self) -> list[int]:
        return sorted({int(n) for n in self.num_layers})

    def by_n(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """N -> (params, accuracy), params ascending."""
        groups = {}
        for n in self.n_values():
            mask = self.num_layers == n
            order = np.argsort(self.params[mask], kind="stable")
            groups[n] = (self.params[mask][order], self.accuracy[mask][order])
        return groups

    def regime(self) -> dict:
        """The (dataset, resolution, epochs) the rows share; AdvisorError when they mix."""
        regime = {}
        for column in ("dataset", "resolution", "epochs"):
            values = sorted({_plain(v) for v in self.columns[column]}, key=str)
            if len(values) != 1:
                raise AdvisorError(
                    f"{self.path}: rows mix {column} values {values}; a scaling law holds for one "
                    f"regime only. Filter the table to one {column} first."
                )
            regime[column] = values[0]
        return regime


def from_rows(
    rows: list[dict], path: str = "<memory>", accuracy_scale: str = "auto"
) -> ResultsTable:
    """Validate dict rows (1-based row numbers in errors) and build a table.

    ``accuracy_scale``: see ACCURACY_SCALES. Rows identical in every column are refused."""
    if accuracy_scale not in ACCURACY_SCALES:
        raise AdvisorError(
            f"unknown accuracy scale {accuracy_scale!r}; use one of {list(ACCURACY_SCALES)}"
        )
    if not rows:
        raise AdvisorError(f"{path}: no result rows. Add trained networks to the table.")
    rows = [{ALIASES.get(key, key): value for key, value in row.items()} for row in rows]
    missing = [c for c in REQUIRED_COLUMNS if c != "source" and c not in rows[0]]
    if missing:
        raise AdvisorError(
            f"{path}: missing column(s) {', '.join(missing)}. Required: "
            f"{', '.join(REQUIRED_COLUMNS)} (num_layers may be called N)."
        )
    present_optional = [c for c in OPTIONAL_COLUMNS if any(c in row for row in rows)]
    columns: dict[str, list] = {c: [] for c in REQUIRED_COLUMNS + tuple(present_optional)}
    for number, row in enumerate(rows, start=1):
        for column in NUMERIC_COLUMNS:
            columns[column].append(_number(row.get(column), path, number, column))
        for column in present_optional:
            value = row.get(column)
            empty = value is None or value == ""
            columns[column].append(math.nan if empty else _number(value, path, number, column))
        dataset = row.get("dataset")
        if dataset is None or str(dataset).strip() == "":
            raise AdvisorError(f"{path}: row {number}, column dataset: empty. Name the dataset.")
        columns["dataset"].append(str(dataset).strip())
        source = row.get("source")
        columns["source"].append(str(source) if source not in (None, "") else str(path))
        if accuracy_scale == "fraction":
            if not 0 <= columns["accuracy"][-1] <= 1:
                raise AdvisorError(
                    f"{path}: row {number}, column accuracy: {columns['accuracy'][-1]:g} is not "
                    "a fraction in [0, 1], but --accuracy-scale fraction was given. Drop it if "
                    "the table is in percent."
                )
            columns["accuracy"][-1] *= 100
        _check_ranges(columns, path, number)
    if accuracy_scale == "auto" and all(0 <= a <= 1 for a in columns["accuracy"]):
        raise AdvisorError(
            f"{path}: every accuracy lies in [0, 1]: these look like fractions, but the column "
            "is top-1 in percent. Multiply the column by 100 (0.875 -> 87.5), or pass "
            "--accuracy-scale fraction (or --accuracy-scale percent if they really are "
            "percentages below 1 %)."
        )
    _check_duplicates(columns, path)
    arrays = {
        name: np.array(values, dtype=object if name in TEXT_COLUMNS else float)
        for name, values in columns.items()
    }
    return ResultsTable(arrays, str(path))


def load_results(path: str | Path, accuracy_scale: str = "auto") -> ResultsTable:
    """Read a results table from .csv, .jsonl/.json (JSON lines) or a SQLite sweep store
    (``accuracy_scale``: see ACCURACY_SCALES)."""
    path = Path(path)
    if not path.is_file():
        raise AdvisorError(f"{path}: no such file. Give a CSV, JSON-lines or SQLite results file.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(path)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        rows = _read_jsonl(path)
    elif suffix in SQLITE_SUFFIXES or _is_sqlite(path):
        rows = _read_sqlite(path)
    else:
        raise AdvisorError(
            f"{path}: unknown results format '{suffix}'. Use .csv, .jsonl or a SQLite store (.db)."
        )
    return from_rows(rows, str(path), accuracy_scale)


def _read_csv(path: Path) -> list[dict]:
    text = read_text(path, "results file")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(read_text(path, "results file").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise AdvisorError(
                f"{path}: line {number} is not JSON ({err.msg}). Write one JSON object per line."
            ) from None
        if not isinstance(row, dict):
            raise AdvisorError(f"{path}: line {number} is not a JSON object. One object per line.")
        rows.append(row)
    return rows


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _read_sqlite(path: Path) -> list[dict]:
    from advisor.sweep.store import connect_read_only

    try:
        connection = connect_read_only(path)
    except sqlite3.DatabaseError as err:
        raise AdvisorError(f"{path}: cannot read as SQLite ({err}).") from None
    try:
        table_columns = [r[1] for r in connection.execute("PRAGMA table_info(runs)")]
        if not table_columns:
            raise AdvisorError(
                f"{path}: no 'runs' table. Point at the SQLite store written by `advisor sweep`."
            )
        if "status" not in table_columns:
            raise AdvisorError(f"{path}: table runs has no 'status' column; cannot tell done runs.")
        wanted = [
            c for c in table_columns if ALIASES.get(c, c) in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
        ]
        quoted = ", ".join(f'"{c}"' for c in wanted)
        cursor = connection.execute(f"SELECT {quoted} FROM runs WHERE status = 'done'")
        rows = [dict(zip(wanted, values)) for values in cursor.fetchall()]
    except sqlite3.DatabaseError as err:
        raise AdvisorError(f"{path}: cannot read as SQLite ({err}).") from None
    finally:
        connection.close()
    for row in rows:
        if row.get("source") in (None, ""):
            row["source"] = f"{path} (sweep store)"
    return rows


def _number(value, path, row: int, column: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise AdvisorError(
            f"{path}: row {row}, column {column}: {value!r} is not a finite number. Fix that cell."
        )
    return number


def _check_ranges(columns: dict, path, row: int) -> None:
    if columns["params"][-1] <= 0:
        raise AdvisorError(
            f"{path}: row {row}, column params: {columns['params'][-1]:g} <= 0. Parameter counts "
            "are positive."
        )
    if not 0 <= columns["accuracy"][-1] <= 100:
        raise AdvisorError(
            f"{path}: row {row}, column accuracy: {columns['accuracy'][-1]:g} is outside [0, 100]. "
            "Accuracy is top-1 in percent (write 87.5, not 0.875)."
        )
    n = columns["num_layers"][-1]
    if n < 1 or n > MAX_LAYERS or n != int(n):
        raise AdvisorError(
            f"{path}: row {row}, column num_layers: {n:g} is not a positive integer up to "
            f"{MAX_LAYERS} (a PhiNet's number of blocks)."
        )


def _check_duplicates(columns: dict, path) -> None:
    """Rows equal in every column are one result entered twice: it would weigh double."""
    first: dict[tuple, int] = {}
    duplicates = []
    for number, row in enumerate(zip(*columns.values()), start=1):
        key = tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in row)
        if key in first:
            duplicates.append(f"row {number} repeats row {first[key]}")
        else:
            first[key] = number
    if duplicates:
        shown = "; ".join(duplicates[:5]) + ("; ..." if len(duplicates) > 5 else "")
        raise AdvisorError(
            f"{path}: {len(duplicates)} duplicated row(s) ({shown}). Each trained network "
            "counts once: remove the copies."
        )


def _plain(value):
    """Numbers that are whole print as int (160 rather than 160.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
