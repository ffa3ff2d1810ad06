"""The training progress on stderr: a rich progress bar (loss, accuracy, images/s, ETA) and a
line per epoch (to the log when the bar is off)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from advisor.training.recipe import Recipe

log = logging.getLogger(__name__)


class ProgressReporter:
    """A rich progress bar on stderr (loss, accuracy, images/s, ETA) and a line per epoch."""

    def __init__(self, enabled: bool, recipe: Recipe, total_steps: int, done_steps: int):
        self.enabled, self.recipe = enabled, recipe
        self.last_update = 0.0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "loss {task.fields[loss]}  acc {task.fields[acc]}  {task.fields[speed]} img/s"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task(
            "train",
            total=total_steps,
            completed=done_steps,
            epoch=1,
            epochs=recipe.epochs,
            loss="-",
            acc="-",
            speed="-",
        )
        self.progress.start()

    def step(
        self, epoch: int, global_step: int, running: Callable[[], tuple[float, float]], speed: float
    ) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last_update < 0.5:
            return
        self.last_update = now
        loss, accuracy = running()
        self.progress.update(
            self.task,
            completed=global_step,
            epoch=epoch + 1,
            loss=f"{loss:.3f}",
            acc=f"{100 * accuracy:.1f}%",
            speed=f"{speed:,.0f}",
        )

    def epoch(self, record: dict, global_step: int) -> None:
        line = (
            f"epoch {record['epoch']}/{self.recipe.epochs}: "
            f"train loss {record['train_loss']:.4f} "
            f"acc {100 * record['train_accuracy']:.2f}%, val loss {record['val_loss']:.4f} "
            f"acc {100 * record['val_accuracy']:.2f}% (measured: training run), "
            f"{record['images_per_second']:,.0f} img/s, {record['epoch_seconds']:.1f} s"
        )
        if not self.enabled:
            log.info(line)
            return
        self.progress.update(self.task, completed=global_step)
        self.progress.console.print(line)

    def close(self) -> None:
        if self.enabled:
            self.progress.stop()
