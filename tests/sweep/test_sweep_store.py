import sqlite3

import pytest

from advisor.errors import AdvisorError
from advisor.sweep.grid import GridPoint
from advisor.sweep.regime import Regime, run_id
from advisor.sweep.store import SweepStore
from advisor.sweep.worker import RunTask

RECIPE = {"resolution": 16, "epochs": 1, "warmup_epochs": 0, "lr": 0.01, "seed": 0}


def _task(point, regime=None, seed=0):
    regime = regime or Regime.from_recipe("tiny", RECIPE)
    return RunTask(
        run_id(point, regime, seed), point, regime, dict(RECIPE, seed=seed), "data", "out"
    )


def _finished(task, status="done", **values):
    return dict(task.base_row(), status=status, **values)


def test_run_ids_are_deterministic_and_distinguish_config_regime_and_seed():
    regime = Regime.from_recipe("tiny", RECIPE)
    point = GridPoint(0.15, 1.0, 4, 4)
    assert run_id(point, regime, 0) == run_id(GridPoint(0.15, 1, 4.0, 4), regime, 0)
    others = {
        run_id(GridPoint(0.3, 1.0, 4, 4), regime, 0),
        run_id(point, regime, 1),
        run_id(point, Regime.from_recipe("tiny", dict(RECIPE, epochs=2)), 0),
        run_id(point, Regime.from_recipe("other", RECIPE), 0),
    }
    assert run_id(point, regime, 0) not in others and len(others) == 4
    # the seed is per run, not part of the regime
    assert Regime.from_recipe("tiny", dict(RECIPE, seed=5)) == regime


def test_store_is_wal_and_a_running_marker_does_not_block_a_rerun(tmp_path):
    path = tmp_path / "s.db"
    task = _task(GridPoint(0.15, 1.0, 4, 4))
    with SweepStore(path) as store:
        store.mark_running([dict(task.base_row(), pid=2**22 + 12345)])  # a dead sweep's marker
        assert store.statuses() == {task.run_id: "running"}
        assert store.live_runner() is None
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with SweepStore(path) as store:
        store.record(_finished(task, status="failed", error="boom"))
        store.record(_finished(task, params=100, accuracy=42.0))
        [row] = store.rows()
        assert (row["status"], row["accuracy"], row["error"]) == ("done", 42.0, None)
        # a finished run is never downgraded by a later marker or failure
        store.mark_running([task.base_row()])
        store.record(_finished(task, status="failed", error="late"))
        assert store.statuses() == {task.run_id: "done"}


def test_store_refuses_another_regime_unless_asked(tmp_path):
    with SweepStore(tmp_path / "s.db") as store:
        store.record(_finished(_task(GridPoint(0.15, 1.0, 4, 4)), params=10, accuracy=10.0))
        store.check_regime(Regime.from_recipe("tiny", RECIPE))
        other = Regime.from_recipe("tiny", dict(RECIPE, epochs=3, lr=0.1))
        with pytest.raises(
            AdvisorError, match=r"differs in epochs, recipe.lr.*--allow-mixed-regimes"
        ):
            store.check_regime(other)
        store.check_regime(other, allow_mixed=True)


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database " * 100)
    with pytest.raises(AdvisorError, match="not a usable SQLite database"):
        SweepStore(path)
    assert path.read_text().startswith("not a database")
