"""``train``: one PhiNet, one data set, one recipe, into a self-describing run directory
(config.json, recipe.json, data.json, metrics.jsonl, last.pt, best.pt, result.json)."""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from advisor.cache import user_cache_dir
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.provenance import TRAINING
from advisor.training import checkpoint
from advisor.training.augment import augment, channel_stats
from advisor.training.data import DataSplits, load_dataset
from advisor.training.evaluation import Evaluation, autocast, evaluate
from advisor.training.optim import build_optimizer, learning_rate
from advisor.training.progress import ProgressReporter
from advisor.training.recipe import Recipe
from advisor.training.rundir import (
    check_same_data,
    run_paths,
    saved_run,
    write_json,
    write_metrics,
)
from advisor.training.session import Stop, ctrl_c_saves, global_rng_preserved, resolve_device

log = logging.getLogger(__name__)

# A callback gets ("step", {epoch, step, global_step}) after every optimiser step and
# ("epoch", <the metrics.jsonl record>) after every epoch; returning True asks the run to stop
# (it saves a checkpoint and returns a result with completed=False).
Callback = Callable[[str, dict], "bool | None"]

TIMING_KEYS = ("epoch_seconds", "images_per_second", "elapsed_seconds")


class Diverged(AdvisorError):
    """The loss or the weights became NaN or infinite: training stopped, nothing was saved
    after the last good epoch. Exit code 2, as the usual cause is a setting (the learning
    rate)."""


@dataclass(frozen=True)
class TrainResult:
    """What a run measured. Accuracies are fractions in [0, 1]; ``test_accuracy`` is the best
    (by validation accuracy) checkpoint's, and None when the run stopped before its last epoch."""

    config: PhiNetConfig
    recipe: Recipe
    best_val_accuracy: float
    best_epoch: int
    test_accuracy: float | None
    epochs_completed: int
    completed: bool
    seconds: float
    images_per_second: float
    checkpoint: Path
    last_checkpoint: Path
    metrics_path: Path
    out_dir: Path
    params: int
    seed: int
    device: str
    source: str = TRAINING

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["config"] = self.config.to_dict()
        data["recipe"] = self.recipe.to_dict()
        for name in ("checkpoint", "last_checkpoint", "metrics_path", "out_dir"):
            data[name] = str(data[name])
        return data


@dataclass
class _Progress:
    """Where a run stands; saved in last.pt so that a resumed run continues exactly."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimiser steps done in the current epoch
    global_step: int = 0
    best_val_accuracy: float = -1.0
    best_epoch: int = 0
    loss_sum: float = 0.0  # running sums of the current epoch
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0  # wall time of all sessions
    train_seconds: float = 0.0  # time inside the optimisation loop only
    train_images: int = 0
    history: list[dict] = field(default_factory=list)


def _check_inputs(config: PhiNetConfig, data: DataSplits, recipe: Recipe) -> None:
    if config.resolution != recipe.resolution:
        raise AdvisorError(
            f"the config's resolution ({config.resolution}) differs from the "
            f"recipe's ({recipe.resolution}); the network is built for one input "
            f"size, so set both to the same value"
        )
    if data.resolution != recipe.resolution:
        raise AdvisorError(
            f"the data was loaded for resolution {data.resolution}, the recipe "
            f"trains at {recipe.resolution}; load it with "
            f"resolution={recipe.resolution}"
        )
    if data.num_classes < 2:
        raise AdvisorError(
            f"the data has {data.num_classes} class; a classifier needs at least 2 "
            "(with one, every prediction is right and the accuracy means nothing)"
        )
    if data.num_classes != config.num_classes:
        raise AdvisorError(
            f"the data has {data.num_classes} classes but the config's "
            f"num_classes is {config.num_classes}; set "
            f"num_classes={data.num_classes}"
        )
    if data.channels != config.in_channels:
        raise AdvisorError(
            f"the images have {data.channels} channels but the config's in_channels "
            f"is {config.in_channels}"
        )
    if data.split != recipe.split:
        raise AdvisorError(
            f"the data was split {data.split!r}, the recipe asks for "
            f"{recipe.split!r}; load it with split={recipe.split!r}"
        )
    if not config.include_top:
        raise AdvisorError("training a classifier needs include_top=True in the config")


def train(
    config: PhiNetConfig,
    data: DataSplits | str | Path,
    out_dir: str | Path,
    recipe: Recipe | None = None,
    resume: bool = False,
    device: str | None = None,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    *,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> TrainResult:
    """Train ``config`` on ``data`` with ``recipe`` (default: the study's) into ``out_dir``.

    ``data`` is a :class:`DataSplits` or a source for :func:`load_dataset` (decoded images are
    cached in ``cache_dir``, default :func:`advisor.cache.user_cache_dir`; CIFAR is read from
    ``data_dir``).
    Every epoch writes last.pt (atomically) and a line of metrics.jsonl; the best model by
    validation accuracy goes to best.pt. ``resume=True`` continues the run in ``out_dir``
    exactly where its last.pt left it (same weights, metrics and RNG streams as an
    uninterrupted run). Ctrl-C saves last.pt mid-epoch, then raises KeyboardInterrupt.
    The caller's global RNG states are left as they were.
    """
    recipe = recipe or Recipe()
    device_ = resolve_device(device)
    out_dir = Path(out_dir)
    paths = run_paths(out_dir)
    saved = saved_run(paths, config, recipe, resume)
    if not isinstance(data, DataSplits):
        data = load_dataset(
            data,
            recipe.resolution,
            recipe.split,
            recipe.seed,
            cache_dir=cache_dir or user_cache_dir(),
            val_fraction=recipe.val_fraction,
            data_dir=data_dir,
            channels=config.in_channels,
            num_workers=recipe.num_workers,
        )
    _check_inputs(config, data, recipe)
    if saved is not None:
        check_same_data(paths, saved, data)
    out_dir.mkdir(parents=True, exist_ok=True)
    with global_rng_preserved():
        return _run(config, data, recipe, paths, saved, device_, progress, callbacks)


class _Run:
    """The state of one training session: model, optimiser, RNG streams and progress."""

    def __init__(
        self,
        config: PhiNetConfig,
        data: DataSplits,
        recipe: Recipe,
        paths: dict[str, Path],
        saved: dict | None,
        device: torch.device,
    ):
        from advisor.training.phinet import PhiNet

        self.config, self.data, self.recipe = config, data, recipe
        self.paths, self.device = paths, device
        self.session_start = time.perf_counter()
        torch.manual_seed(recipe.seed)  # initial weights and dropout
        random.seed(recipe.seed)
        np.random.seed(recipe.seed)
        self.model = PhiNet(config).to(device)
        self.optimizer = build_optimizer(self.model, recipe)
        self.shuffle = torch.Generator().manual_seed(recipe.seed + 1)
        self.augmentation = torch.Generator(device=device).manual_seed(recipe.seed + 2)
        self.state = _Progress()
        if saved is not None:
            checkpoint.load_weights(self.model, saved["model_state"], paths["last"])
            try:
                self.optimizer.load_state_dict(saved["optimizer_state"])
            except (ValueError, KeyError, TypeError) as err:
                raise AdvisorError(
                    f"checkpoint {paths['last']}: its optimizer state does not match the model "
                    f"({err}); use the run's own checkpoint, or start a new --out"
                ) from None
            self.shuffle.set_state(saved["generators"]["shuffle"])
            self.augmentation.set_state(saved["generators"]["augmentation"])
            checkpoint.set_rng_states(saved["rng"])
            self.state = _Progress(**saved["progress"])
        # the shuffle generator's state before this epoch's permutation: resuming mid-epoch
        # draws the same permutation again
        self.epoch_shuffle_state = self.shuffle.get_state()
        n = len(data.train_labels)
        self.batch = min(recipe.batch_size, n)
        # the last partial batch is dropped (BatchNorm needs more than one sample)
        self.steps_per_epoch = n // self.batch
        self.total_steps = self.steps_per_epoch * recipe.epochs
        self.warmup_steps = self.steps_per_epoch * recipe.warmup_epochs
        self.images = data.train_images.to(device)
        self.labels = data.train_labels.to(device)
        self.scale, self.shift = channel_stats(data.mean, data.std, device)

    def _payload(self, kind: str) -> dict[str, Any]:
        return {
            "format": checkpoint.FORMAT,
            "kind": kind,
            "model_state": self.model.state_dict(),
            "config": self.config.to_dict(),
            "recipe": self.recipe.to_dict(),
            "data": self.data.describe(),
            "classes": self.data.classes,
            "normalization": {"mean": list(self.data.mean), "std": list(self.data.std)},
            "epoch": self.state.epoch,
        }

    def save_last(self) -> None:
        state = self.state
        elapsed = time.perf_counter() - self.session_start
        checkpoint.save_atomic(
            {
                **self._payload("last"),
                "optimizer_state": self.optimizer.state_dict(),
                "val_accuracy": state.history[-1]["val_accuracy"] if state.history else None,
                "progress": {**state.__dict__, "seconds": state.seconds + elapsed},
                "generators": {
                    "shuffle": self.epoch_shuffle_state,
                    "augmentation": self.augmentation.get_state(),
                },
                "rng": checkpoint.rng_states(),
            },
            self.paths["last"],
        )

    def save_best(self, val_accuracy: float) -> None:
        checkpoint.save_atomic(
            {**self._payload("best"), "val_accuracy": val_accuracy}, self.paths["best"]
        )

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor) -> Evaluation:
        return evaluate(
            self.model,
            images,
            labels,
            mean=self.data.mean,
            std=self.data.std,
            resolution=self.recipe.resolution,
            batch_size=self.recipe.eval_batch_size,
            device=self.device,
            bf16=self.recipe.bf16,
        )

    def train_epoch(
        self, epoch: int, stop: Stop, callbacks: Sequence[Callback], reporter: ProgressReporter
    ) -> tuple[int, float, float]:
        """Optimiser steps from state.step to the end of the epoch, or until a stop is asked.
        Returns (images seen, loop seconds, last learning rate)."""
        recipe, state, batch = self.recipe, self.state, self.batch
        self.shuffle.set_state(self.epoch_shuffle_state)
        order = torch.randperm(len(self.labels), generator=self.shuffle).to(self.device)
        loss_sum = torch.tensor(state.loss_sum, dtype=torch.float64, device=self.device)
        correct = torch.tensor(state.correct, dtype=torch.int64, device=self.device)
        start, first_step, lr = time.perf_counter(), state.step, recipe.lr

        def running() -> tuple[float, float]:
            return loss_sum.item() / state.seen, correct.item() / state.seen

        for step in range(state.step, self.steps_per_epoch):
            index = order[step * batch : (step + 1) * batch]
            x = augment(
                self.images[index],
                self.scale,
                self.shift,
                recipe.resolution,
                generator=self.augmentation,
                hflip=recipe.hflip,
                rotation_degrees=recipe.rotation_degrees,
                zoom=recipe.zoom,
            )
            y = self.labels[index]
            lr = learning_rate(
                state.global_step, self.total_steps, self.warmup_steps, recipe.lr, recipe.min_lr
            )
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            with autocast(self.device, recipe.bf16):
                logits = self.model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=recipe.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
            state.seen += len(y)
            state.step, state.global_step = step + 1, state.global_step + 1
            for callback in callbacks:
                if callback(
                    "step", {"epoch": epoch, "step": state.step, "global_step": state.global_step}
                ):
                    stop.requested = True
            reporter.step(
                epoch,
                state.global_step,
                running,
                (state.step - first_step) * batch / (time.perf_counter() - start),
            )
            if stop.requested:
                break
        state.loss_sum, state.correct = loss_sum.item(), int(correct.item())  # waits for the device
        images, seconds = (state.step - first_step) * batch, time.perf_counter() - start
        state.train_images += images
        state.train_seconds += seconds
        return images, seconds, lr

    def check_finite(self, epoch: int, what: str, value: float) -> None:
        """Raise Diverged when ``value`` or a weight is not finite (before anything is saved)."""
        if math.isfinite(value) and all(
            bool(torch.isfinite(p).all()) for p in self.model.parameters()
        ):
            return
        last = self.paths["last"]
        kept = (
            f"{last} holds the last good epoch ({self.state.epoch})"
            if self.state.epoch and last.exists()
            else "no epoch finished, so no checkpoint was kept"
        )
        cause = f"the {what} is {value}" if not math.isfinite(value) else "a weight is not finite"
        raise Diverged(
            f"training diverged in epoch {epoch + 1} ({cause}); stopped. Lower the learning "
            f"rate (--lr, now {self.recipe.lr:g}) or check the data; {kept}"
        )

    def finish_epoch(
        self, epoch: int, images: int, seconds: float, lr: float, epoch_start: float
    ) -> dict[str, Any]:
        """Validate, keep the best model, write last.pt and a metrics.jsonl line."""
        state = self.state
        train_loss, train_accuracy = state.loss_sum / state.seen, state.correct / state.seen
        val = self.evaluate(self.data.val_images, self.data.val_labels)
        self.check_finite(epoch, "validation loss", val.loss)
        state.epoch, state.step, state.loss_sum, state.correct, state.seen = epoch + 1, 0, 0.0, 0, 0
        if val.accuracy > state.best_val_accuracy:
            state.best_val_accuracy, state.best_epoch = val.accuracy, epoch + 1
            self.save_best(val.accuracy)
        record = {
            "epoch": epoch + 1,
            "lr": lr,
            "train_loss": train_loss,
            "train_accuracy": train_accuracy,
            "val_loss": val.loss,
            "val_accuracy": val.accuracy,
            "best_val_accuracy": state.best_val_accuracy,
            "best_epoch": state.best_epoch,
            "images_per_second": images / max(seconds, 1e-9),
            "epoch_seconds": time.perf_counter() - epoch_start,
            "elapsed_seconds": state.seconds + time.perf_counter() - self.session_start,
        }
        state.history.append(record)
        self.epoch_shuffle_state = self.shuffle.get_state()
        self.save_last()
        with open(self.paths["metrics"], "a") as metrics:
            metrics.write(json.dumps(record) + "\n")
        return record


def _run(
    config: PhiNetConfig,
    data: DataSplits,
    recipe: Recipe,
    paths: dict[str, Path],
    saved: dict | None,
    device: torch.device,
    progress: bool,
    callbacks: Sequence[Callback],
) -> TrainResult:
    run = _Run(config, data, recipe, paths, saved, device)
    state = run.state
    if saved is None:
        write_json(paths["config"], config.to_dict())
        write_json(paths["recipe"], recipe.to_dict())
        write_json(paths["data"], data.describe())
    else:
        log.info("resuming %s at epoch %d, step %d", paths["last"].parent, state.epoch, state.step)
    # metrics.jsonl is rewritten from the checkpoint's history: lines past it are dropped
    write_metrics(paths["metrics"], state.history)
    stop = Stop()
    reporter = ProgressReporter(progress, recipe, run.total_steps, state.global_step)
    run.model.train()
    try:
        with ctrl_c_saves(stop):
            for epoch in range(state.epoch, recipe.epochs):
                epoch_start = time.perf_counter()
                images, seconds, lr = run.train_epoch(epoch, stop, callbacks, reporter)
                run.check_finite(epoch, "training loss", state.loss_sum)
                if state.step < run.steps_per_epoch:  # stopped inside the epoch
                    run.save_last()
                    break
                record = run.finish_epoch(epoch, images, seconds, lr, epoch_start)
                reporter.epoch(record, state.global_step)
                for callback in callbacks:
                    if callback("epoch", dict(record)):
                        stop.requested = True
                if stop.requested:
                    break
    finally:
        reporter.close()
    state.seconds += time.perf_counter() - run.session_start
    if stop.by_signal:
        raise KeyboardInterrupt(
            f"training interrupted; {paths['last']} saved, resume with --resume"
        )
    completed = state.epoch == recipe.epochs
    test_accuracy = None
    if completed:
        best = checkpoint.read(paths["best"], map_location=device)
        run.model.load_state_dict(best["model_state"])
        test_accuracy = run.evaluate(data.test_images, data.test_labels).accuracy
    result = TrainResult(
        config=config,
        recipe=recipe,
        best_val_accuracy=state.best_val_accuracy,
        best_epoch=state.best_epoch,
        test_accuracy=test_accuracy,
        epochs_completed=state.epoch,
        completed=completed,
        seconds=state.seconds,
        images_per_second=state.train_images / max(state.train_seconds, 1e-9),
        checkpoint=paths["best"],
        last_checkpoint=paths["last"],
        metrics_path=paths["metrics"],
        out_dir=paths["last"].parent,
        params=sum(p.numel() for p in run.model.parameters()),
        seed=recipe.seed,
        device=str(device),
    )
    if completed:
        write_json(paths["result"], result.to_dict())
    return result
