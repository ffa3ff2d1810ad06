"""The Ray executor on a local Ray instance: tasks in Ray workers, rows written by the driver."""

import os

import pytest
from sweep_tiny import TINY_CONFIGS

from advisor.sweep.grid import GridPoint
from advisor.sweep.recipe import recipe_dict
from advisor.sweep.regime import Regime
from advisor.sweep.runner import plan_sweep, run_sweep
from advisor.sweep.store import SweepStore

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # starts a local Ray instance (about 25 s)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_two_config_sweep_on_local_ray(local_ray, tmp_path, tiny_data):
    from advisor.sweep.executors import RayExecutor

    points = [GridPoint(**config) for config in TINY_CONFIGS[:2]]
    recipe = recipe_dict(resolution=8, epochs=1, warmup_epochs=0, batch_size=8)
    regime = Regime.from_recipe("tiny", recipe)
    with SweepStore(tmp_path / "ray.db") as store:
        plan = plan_sweep(
            points,
            regime,
            recipe,
            str(tiny_data),
            store,
            tmp_path / "runs",
            data_options={"cache_dir": str(tmp_path / "cache")},
        )
        progress = run_sweep(plan, store, RayExecutor(workers=2))
        rows = store.rows(status=None)
    assert (progress.done, progress.failed, progress.ran) == (2, 0, 2)
    assert [row["status"] for row in rows] == ["done", "done"]
    assert {(row["alpha"], row["num_layers"]) for row in rows} == {(0.15, 4), (0.15, 5)}
    # trained in Ray worker processes, not in the driver
    assert all(row["pid"] != os.getpid() for row in rows)
    assert all(0 <= row["accuracy"] <= 100 for row in rows)
    assert ray.is_initialized()  # the executor leaves a Ray instance it did not start running
