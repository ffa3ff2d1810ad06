"""The SQLite store of a sweep: one row per run in table ``runs``.

Contract with ``advisor.scaling`` (which reads this table): rows with ``status = 'done'``
are results; ``accuracy`` is test top-1 in percent; ``params`` is the cost model's count.
The database runs in WAL mode so that readers never block the writer. Only the sweep's
driver process writes; each row is written in one transaction when its run ends, so a
killed sweep loses at most the runs that were in flight. A ``'running'`` row marks a run
in flight; a rerun after a crash simply runs it again.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.sweep.regime import Regime

SCHEMA_VERSION = 1
DONE, RUNNING, FAILED = "done", "running", "failed"

# (name, SQLite type) in table order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "TEXT PRIMARY KEY"),
    ("status", "TEXT NOT NULL"),
    ("alpha", "REAL NOT NULL"),
    ("beta", "REAL NOT NULL"),
    ("t0", "REAL NOT NULL"),
    ("num_layers", "INTEGER NOT NULL"),
    ("resolution", "INTEGER NOT NULL"),
    ("dataset", "TEXT NOT NULL"),
    ("epochs", "INTEGER NOT NULL"),
    ("params", "INTEGER"),
    ("macs", "INTEGER"),
    ("peak_ram_bytes", "INTEGER"),
    ("flash_bytes", "INTEGER"),
    ("accuracy", "REAL"),
    ("val_accuracy", "REAL"),
    ("seconds", "REAL"),
    ("images_per_second", "REAL"),
    ("epochs_completed", "INTEGER"),
    ("seed", "INTEGER NOT NULL"),
    ("source", "TEXT NOT NULL"),
    ("regime_id", "TEXT NOT NULL"),
    ("regime", "TEXT NOT NULL"),
    ("config", "TEXT"),
    ("host", "TEXT"),
    ("pid", "INTEGER"),
    ("device", "TEXT"),
    ("started_at", "TEXT"),
    ("finished_at", "TEXT"),
    ("checkpoint", "TEXT"),
    ("error", "TEXT"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)
# what a results CSV for advisor.scaling needs; the rest stays in the store
EXPORT_COLUMNS = (
    "alpha",
    "beta",
    "t0",
    "num_layers",
    "resolution",
    "dataset",
    "epochs",
    "params",
    "macs",
    "peak_ram_bytes",
    "flash_bytes",
    "accuracy",
    "val_accuracy",
    "seconds",
    "seed",
    "source",
    "run_id",
)


class SweepStore:
    """A sweep's SQLite file. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path, read_only: bool = False):
        """Open (and, unless `read_only`, create) the store at `path`. Read-only opening
        works on a store in a read-only file or folder, and changes nothing."""
        self.path = Path(path)
        self.read_only = read_only
        if self.path.is_dir():
            raise AdvisorError(
                f"store {self.path} is a directory; give a file path such as sweep.db"
            )
        if read_only and not self.path.is_file():
            raise AdvisorError(
                f"store {self.path} does not exist; pass the --store of an earlier `advisor sweep`"
            )
        if not self.path.parent.exists():
            raise AdvisorError(f"the folder of store {self.path} does not exist; create it first")
        try:
            if read_only:
                self._db = connect_read_only(self.path)
            else:
                self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._refuse_foreign_database()
            if read_only:
                self._check_schema()
            else:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._create()
        except sqlite3.DatabaseError as err:
            raise AdvisorError(
                f"store {self.path} is not a usable SQLite database ({err}); "
                "pass a new file name or the store of an earlier sweep"
            ) from None

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _refuse_foreign_database(self) -> None:
        """A database that holds tables but no store_meta was not written by advisor sweep:
        never add tables to someone else's file."""
        tables = sorted(
            row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        )
        if tables and "store_meta" not in tables:
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise AdvisorError(
                f"{self.path} is an SQLite database of something else (tables: {shown}), not a "
                "sweep store: pass a new file name for --store (it would get the store's tables)"
            )

    def _create(self) -> None:
        columns = ",\n  ".join(f"{name} {kind}" for name, kind in COLUMNS)
        with self._transaction():
            self._db.execute(f"CREATE TABLE IF NOT EXISTS runs (\n  {columns}\n)")
            self._db.execute("CREATE INDEX IF NOT EXISTS runs_status ON runs(status)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT)"
            )
            self._db.execute(
                "INSERT OR IGNORE INTO store_meta VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        self._check_schema()

    def _check_schema(self) -> None:
        tables = {
            row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not {"runs", "store_meta"} <= tables:
            raise AdvisorError(
                f"{self.path} is not a sweep store (no runs / store_meta table): pass the "
                "--store of an earlier `advisor sweep`"
            )
        version = self._db.execute(
            "SELECT value FROM store_meta WHERE key='schema_version'"
        ).fetchone()
        if version is None or str(version[0]) != str(SCHEMA_VERSION):
            raise AdvisorError(
                f"store {self.path} has schema version {version and version[0]}, this advisor "
                f"writes {SCHEMA_VERSION}; use a new store file"
            )
        present = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        missing = [name for name in COLUMN_NAMES if name not in present]
        if missing:
            raise AdvisorError(
                f"store {self.path} has a 'runs' table without columns {missing}; "
                "it was not written by advisor sweep: use a new store file"
            )

    def _transaction(self):
        return _Transaction(self._db)

    # --- regimes -------------------------------------------------------------------
    def regimes(self) -> dict[str, dict[str, Any]]:
        """regime_id -> regime of every row in the store."""
        rows = self._db.execute("SELECT regime_id, regime FROM runs GROUP BY regime_id")
        return {row["regime_id"]: json.loads(row["regime"]) for row in rows}

    def check_regime(self, regime: Regime, allow_mixed: bool = False) -> None:
        """Refuse to add runs of another regime to a store that holds some, unless asked."""
        present = self.regimes()
        if not present or regime.regime_id in present or allow_mixed:
            return
        other = next(iter(present.values()))
        differences = _differences(other, regime.to_dict())
        raise AdvisorError(
            f"store {self.path} holds runs of another regime ({Regime(**other).label()}; differs in "
            f"{', '.join(differences)}). A prior is valid for one regime: use a new --store, or pass "
            "--allow-mixed-regimes to add these runs anyway"
        )

    # --- runs ----------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._db.execute("SELECT run_id, status FROM runs")}

    def live_runner(self) -> int | None:
        """pid of another live sweep on this host that has runs in flight here, if any."""
        host = socket.gethostname()
        rows = self._db.execute(
            "SELECT DISTINCT pid FROM runs WHERE status=? AND host=?", (RUNNING, host)
        )
        for (pid,) in rows:
            if pid and pid != os.getpid() and _alive(pid):
                return pid
        return None

    def mark_running(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record runs as in flight (one transaction). A finished row is never downgraded."""
        with self._transaction():
            for row in rows:
                self._upsert(dict(row, status=RUNNING), only_if_not_done=True)

    def record(self, row: Mapping[str, Any]) -> None:
        """Write a finished ('done' or 'failed') run atomically."""
        if row.get("status") not in (DONE, FAILED):
            raise ValueError(f"record() takes a finished run, got status {row.get('status')!r}")
        _check_columns(row)
        full = {name: row.get(name) for name in COLUMN_NAMES}  # clears a retried run's old error
        with self._transaction():
            self._upsert(full, only_if_not_done=row["status"] == FAILED)

    def _upsert(self, row: Mapping[str, Any], only_if_not_done: bool) -> None:
        _check_columns(row)
        names = list(row)
        placeholders = ", ".join("?" for _ in names)
        updates = ", ".join(f"{name}=excluded.{name}" for name in names if name != "run_id")
        guard = f" WHERE runs.status != '{DONE}'" if only_if_not_done else ""
        self._db.execute(
            f"INSERT INTO runs ({', '.join(names)}) VALUES ({placeholders}) "
            f"ON CONFLICT(run_id) DO UPDATE SET {updates}{guard}",
            [_sql_value(row[name]) for name in names],
        )

    def rows(self, status: str | None = DONE) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs"
        args: tuple[str, ...] = ()
        if status is not None:
            query, args = query + " WHERE status=?", (status,)
        return [dict(row) for row in self._db.execute(query + " ORDER BY params, run_id", args)]

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status")
        return dict(rows)

    def export_csv(self, path: str | Path, columns: tuple[str, ...] = EXPORT_COLUMNS) -> int:
        """Write the finished runs as CSV (numbers and labels only); returns the row count."""
        rows = self.rows(DONE)
        try:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(
                    handle, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
                )
                writer.writeheader()
                writer.writerows(rows)
        except OSError as err:
            raise AdvisorError(
                f"cannot write {path}: {err.strerror}; give a writable file path"
            ) from None
        return len(rows)


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that never writes `path`, also where its file or folder is read-only.

    A store is in WAL mode, whose readers need a shared-memory file beside the database;
    where none can be created (a read-only folder) the database is opened as immutable,
    which is exact when no write-ahead log holds rows the database file lacks. A log with
    content there is refused: reading without it would lose finished rows."""
    path = Path(path)
    uri = path.resolve().as_uri()
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.OperationalError:
        connection.close()
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise AdvisorError(
            f"{path} cannot be opened read-only: its write-ahead log {wal.name} holds changes "
            "and its folder is not writable. Copy the database and its -wal file to a writable "
            "folder, or open it once where it is writable"
        )
    connection = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return connection


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *exc: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _check_columns(row: Mapping[str, Any]) -> None:
    unknown = set(row) - set(COLUMN_NAMES)
    if unknown:
        raise ValueError(f"unknown store columns {sorted(unknown)}")


def _sql_value(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, Path):
        return str(value)
    return value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = [key for key in ("dataset", "resolution", "epochs") if old.get(key) != new.get(key)]
    old_recipe, new_recipe = old.get("recipe", {}), new.get("recipe", {})
    out += [
        f"recipe.{key}"
        for key in sorted(set(old_recipe) | set(new_recipe))
        if key not in ("resolution", "epochs") and old_recipe.get(key) != new_recipe.get(key)
    ]
    return out or ["recipe"]
