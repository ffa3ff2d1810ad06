"""The sweep driver: plan the runs a store still lacks, execute them, write each as it ends."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.sweep.grid import GridPoint
from advisor.sweep.regime import Regime, run_id
from advisor.sweep.store import DONE, FAILED, SweepStore
from advisor.sweep.worker import RunTask

ORDERS = ("small-first", "grid")


@dataclass
class SweepPlan:
    """What a sweep will do: the grid's runs split by what the store already holds."""

    tasks: list[RunTask]  # to run now, in order
    total: int  # runs in the grid
    done: int  # finished earlier
    failed_skipped: int  # failed earlier and not retried
    beyond_limit: int  # left for a later sweep by --limit


@dataclass
class SweepProgress:
    """Counts a progress view shows; updated by the driver after every event."""

    total: int
    done: int
    running: int = 0
    failed: int = 0
    ran: int = 0
    left: int = 0
    started: float = field(default_factory=time.monotonic)
    last_row: dict[str, Any] | None = None

    def eta_seconds(self) -> float | None:
        if not self.ran:
            return None
        return (time.monotonic() - self.started) / self.ran * (self.left + self.running)


def plan_sweep(
    points: Sequence[GridPoint],
    regime: Regime,
    recipe: Mapping[str, Any],
    data: str,
    store: SweepStore,
    runs_dir: str | Path,
    *,
    order: str = "small-first",
    limit: int | None = None,
    retry_failed: bool = False,
    device: str | None = None,
    data_options: Mapping[str, Any] | None = None,
) -> SweepPlan:
    if order not in ORDERS:
        raise AdvisorError(f"unknown order {order!r}; use one of {list(ORDERS)}")
    if limit is not None and limit < 0:
        raise AdvisorError(f"--limit must be >= 0, got {limit}")
    seed = int(recipe.get("seed", 0))
    statuses = store.statuses()
    if order == "small-first":
        points = small_first(points, regime.resolution)
    tasks, done, failed = [], 0, 0
    for point in points:
        rid = run_id(point, regime, seed)
        status = statuses.get(rid)
        if status == DONE:
            done += 1
        elif status == FAILED and not retry_failed:
            failed += 1
        else:
            tasks.append(
                RunTask(
                    rid,
                    point,
                    regime,
                    dict(recipe),
                    str(data),
                    str(Path(runs_dir) / rid),
                    device,
                    dict(data_options or {}),
                )
            )
    kept = tasks if limit is None else tasks[:limit]
    return SweepPlan(kept, len(points), done, failed, len(tasks) - len(kept))


def small_first(points: Sequence[GridPoint], resolution: int) -> list[GridPoint]:
    """Fewest MACs first (training time follows MACs), taking the depths N in turn.

    The smallest network of every N, then the second smallest of every N, and so on: a sweep
    stopped early has a few points on every N's curve rather than many on the shallow ones.
    """
    from advisor.cost import estimate

    def size(point: GridPoint) -> tuple[int, int]:
        costs = estimate(point.config(resolution)).to_dict()
        return (int(costs["macs"]), int(costs["params"]))

    by_size = sorted(points, key=size)
    rank: dict[GridPoint, int] = {}
    seen: dict[int, int] = {}
    for point in by_size:
        rank[point] = seen.get(point.num_layers, 0)
        seen[point.num_layers] = rank[point] + 1
    return sorted(by_size, key=lambda point: (rank[point], size(point)))


def run_sweep(
    plan: SweepPlan,
    store: SweepStore,
    executor,
    on_event: Callable[[SweepProgress], None] | None = None,
) -> SweepProgress:
    """Execute a plan; each finished run is written to the store the moment it returns.

    A run's failure is recorded and the sweep goes on. The executor is closed at the end,
    also when the driver is interrupted (runs in flight are then lost and rerun next time).
    """
    other = store.live_runner()
    if other:
        raise AdvisorError(
            f"another sweep (pid {other}) is writing runs to {store.path}; "
            "wait for it or stop it, then rerun"
        )
    progress = SweepProgress(
        total=plan.total, done=plan.done, failed=plan.failed_skipped, left=len(plan.tasks)
    )
    pending, in_flight = deque(plan.tasks), 0
    notify = on_event or (lambda _: None)
    notify(progress)
    try:
        while pending or in_flight:
            while pending and in_flight < executor.capacity:
                task = pending.popleft()
                Path(task.out_dir).parent.mkdir(parents=True, exist_ok=True)
                store.mark_running([task.base_row()])
                executor.submit(task)
                in_flight += 1
                progress.left, progress.running = len(pending), in_flight
                notify(progress)
            for row in executor.wait():
                store.record(row)
                in_flight -= 1
                progress.ran += 1
                progress.running = in_flight
                progress.last_row = row
                if row["status"] == DONE:
                    progress.done += 1
                else:
                    progress.failed += 1
                notify(progress)
    finally:
        executor.close()
    return progress
