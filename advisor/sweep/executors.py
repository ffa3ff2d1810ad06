"""Where a sweep's runs execute: in the driver, in local worker processes, or on Ray.

Every executor has the same three members: ``capacity`` (runs in flight at once),
``submit(task)`` and ``wait()`` (blocks until at least one run has finished and returns the
finished rows). Rows come back to the driver, which alone writes the store.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from advisor.errors import AdvisorError
from advisor.sweep.store import FAILED
from advisor.sweep.worker import RunTask, execute, init_worker, now


def failed_row(task: RunTask, error: str) -> dict[str, Any]:
    return dict(task.base_row(), status=FAILED, error=error, finished_at=now())


class SequentialExecutor:
    """Runs each task in the driver process, one after another (data loaded once).

    ``threads``: torch threads while a run trains; the driver's setting is restored after.
    """

    capacity = 1

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._queue: list[RunTask] = []

    def submit(self, task: RunTask) -> None:
        self._queue.append(task)

    def wait(self) -> list[dict[str, Any]]:
        if not self._threads:
            return [execute(self._queue.pop(0))]
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(self._threads)
        try:
            return [execute(self._queue.pop(0))]
        finally:
            torch.set_num_threads(before)

    def close(self) -> None:
        self._queue.clear()


class ProcessExecutor:
    """``workers`` local processes; each loads the data once and trains runs side by side.

    ``threads`` torch threads per process (default: the cores split evenly). A worker that
    dies (e.g. killed for memory) fails its run and the pool is rebuilt.
    """

    def __init__(self, workers: int, threads: int | None = None):
        if workers < 1:
            raise AdvisorError(f"--workers must be at least 1, got {workers}")
        self.capacity = workers
        self._threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self._pool = self._new_pool()
        self._futures: dict[Future, RunTask] = {}

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a fork of a driver that already imported torch can deadlock in its thread pools
        return ProcessPoolExecutor(
            self.capacity,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self._threads, os.getpid()),
        )

    def submit(self, task: RunTask) -> None:
        self._futures[self._pool.submit(execute, task)] = task

    def wait(self) -> list[dict[str, Any]]:
        done, _ = wait_futures(list(self._futures), return_when=FIRST_COMPLETED)
        rows, broken = [], False
        for future in done:
            task = self._futures.pop(future)
            try:
                rows.append(future.result())
            except BrokenProcessPool as err:
                broken = True
                rows.append(failed_row(task, f"worker process died: {err}"))
        if broken:
            for task in self._futures.values():
                rows.append(failed_row(task, "worker pool broke while this run was in flight"))
            self._futures.clear()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
        return rows

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RayExecutor:
    """Tasks scheduled by Ray (a local instance, or a cluster at ``address``).

    Uses the Ray instance already initialized in this process if there is one; otherwise
    connects (``address``) or starts a local one, and shuts it down on :meth:`close`.
    Each worker process keeps its data set between tasks.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_run: float = 1,
        gpus_per_run: float = 0,
    ):
        try:
            import ray
        except ImportError:
            raise AdvisorError(
                "--executor ray needs Ray: pip install 'mcu-advisor[distributed]'"
            ) from None
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except ConnectionError as err:
                raise AdvisorError(
                    f"cannot reach the Ray cluster at {address}: {err}; "
                    "check --address (e.g. ray://host:10001 or auto)"
                ) from None
        self._remote = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(
            execute
        )
        cluster_cpus = ray.cluster_resources().get("CPU", 1)
        self.capacity = workers or max(1, int(cluster_cpus // max(cpus_per_run, 1e-9)))
        self._refs: dict[Any, RunTask] = {}

    def submit(self, task: RunTask) -> None:
        self._refs[self._remote.remote(task)] = task

    def wait(self) -> list[dict[str, Any]]:
        ready, _ = self._ray.wait(list(self._refs), num_returns=1)
        rows = []
        for ref in ready:
            task = self._refs.pop(ref)
            try:
                rows.append(self._ray.get(ref))
            except Exception as err:
                rows.append(failed_row(task, f"Ray task failed: {type(err).__name__}: {err}"))
        return rows

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._owns_ray:
            self._ray.shutdown()


def make_executor(
    kind: str,
    workers: int | None = None,
    address: str | None = None,
    threads: int | None = None,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
):
    if kind == "local":
        if (workers or 1) == 1:
            return SequentialExecutor(threads)
        return ProcessExecutor(workers, threads)
    if kind == "ray":
        return RayExecutor(address, workers, cpus_per_run, gpus_per_run)
    raise AdvisorError(f"unknown executor {kind!r}; use local or ray")
