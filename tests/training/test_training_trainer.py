import json

import pytest
import torch

from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.provenance import TRAINING
from advisor.training.checkpoint import load_checkpoint
from advisor.training.data import load_dataset
from advisor.training.evaluation import evaluate
from advisor.training.recipe import Recipe
from advisor.training.trainer import TIMING_KEYS, train

CONFIG = PhiNetConfig(alpha=0.25, beta=1.0, t0=3, num_layers=3, resolution=16, num_classes=3)
RECIPE = Recipe(
    epochs=3,
    warmup_epochs=1,
    batch_size=16,
    resolution=16,
    split="test+val",
    val_fraction=0.25,
    seed=7,
)
STEPS_PER_EPOCH = 81 // 16  # 3 classes x 27 training images


@pytest.fixture(scope="module")
def data(image_folder):
    return load_dataset(image_folder, 16, split="test+val", seed=7, val_fraction=0.25)


def without_timing(records):
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]


def read_metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_training_lowers_the_loss_and_leaves_a_self_describing_run(data, tmp_path):
    before = torch.get_rng_state()
    # batch 8: enough steps for BatchNorm's running statistics to catch up with the weights
    result = train(
        CONFIG, data, tmp_path / "run", RECIPE.replace(epochs=5, batch_size=8), progress=False
    )
    assert torch.equal(torch.get_rng_state(), before)  # the caller's RNG is untouched
    metrics = read_metrics(tmp_path / "run")
    assert [m["epoch"] for m in metrics] == [1, 2, 3, 4, 5]
    assert metrics[-1]["train_loss"] < 0.7 * metrics[0]["train_loss"]
    assert result.completed and result.epochs_completed == 5 and result.source == TRAINING
    assert result.best_val_accuracy == max(m["val_accuracy"] for m in metrics)
    assert result.best_val_accuracy > 0.5  # three classes: chance is 1/3
    run = tmp_path / "run"
    assert PhiNetConfig.from_json_file(run / "config.json") == CONFIG
    assert Recipe.from_dict(json.loads((run / "recipe.json").read_text())).epochs == 5
    assert json.loads((run / "data.json").read_text())["classes"] == data.classes
    assert json.loads((run / "result.json").read_text())["test_accuracy"] == result.test_accuracy
    assert not list(run.glob(".*"))  # no temporary file of an atomic write is left behind
    model, config, extra = load_checkpoint(result.checkpoint)
    assert config == CONFIG and extra["classes"] == data.classes
    assert extra["epoch"] == result.best_epoch
    again = evaluate(model, data.val_images, data.val_labels, **extra["normalization"])
    assert again.accuracy == pytest.approx(result.best_val_accuracy)
    test = evaluate(model, data.test_images, data.test_labels, **extra["normalization"])
    assert test.accuracy == pytest.approx(result.test_accuracy)
    assert result.params == sum(p.numel() for p in model.parameters())


def stop_at(epoch: int, step: int):
    def callback(event, record):
        return event == "step" and record["epoch"] == epoch and record["step"] == step

    return callback


@pytest.mark.parametrize(
    "epoch, step", [(1, 2), (0, STEPS_PER_EPOCH)], ids=["mid-epoch", "epoch-end"]
)
def test_an_interrupted_then_resumed_run_equals_the_uninterrupted_one(data, tmp_path, epoch, step):
    whole = train(CONFIG, data, tmp_path / "whole", RECIPE, progress=False)
    stopped = train(
        CONFIG, data, tmp_path / "split", RECIPE, progress=False, callbacks=[stop_at(epoch, step)]
    )
    assert not stopped.completed and stopped.test_accuracy is None
    assert (
        torch.load(tmp_path / "split" / "last.pt", weights_only=True)["progress"]["step"]
        == step % STEPS_PER_EPOCH
    )
    resumed = train(CONFIG, data, tmp_path / "split", RECIPE, resume=True, progress=False)
    assert resumed.completed
    assert without_timing(read_metrics(tmp_path / "split")) == without_timing(
        read_metrics(tmp_path / "whole")
    )
    assert resumed.test_accuracy == whole.test_accuracy
    final_whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["model_state"]
    final_split = torch.load(tmp_path / "split" / "last.pt", weights_only=True)["model_state"]
    for key, value in final_whole.items():
        assert torch.equal(final_split[key], value), key


def test_an_existing_run_is_never_overwritten_and_resume_checks_settings(data, tmp_path):
    short = RECIPE.replace(epochs=2)
    with pytest.raises(AdvisorError, match="nothing to resume"):
        train(CONFIG, data, tmp_path / "run", short, resume=True, progress=False)
    train(CONFIG, data, tmp_path / "run", short, progress=False, callbacks=[stop_at(0, 1)])
    with pytest.raises(AdvisorError, match="already holds a training run"):
        train(CONFIG, data, tmp_path / "run", short, progress=False)
    with pytest.raises(AdvisorError, match="lr: 0.01 -> 0.02"):
        train(CONFIG, data, tmp_path / "run", short.replace(lr=0.02), resume=True, progress=False)


def test_mismatched_config_and_data_are_explained(data, tmp_path):
    with pytest.raises(AdvisorError, match="num_classes=3"):
        train(
            PhiNetConfig(0.25, 1.0, 3, 3, resolution=16, num_classes=10),
            data,
            tmp_path / "a",
            RECIPE,
            progress=False,
        )
    with pytest.raises(AdvisorError, match="resolution"):
        train(
            PhiNetConfig(0.25, 1.0, 3, 3, resolution=32, num_classes=3),
            data,
            tmp_path / "b",
            RECIPE,
            progress=False,
        )


def test_evaluate_restores_the_training_mode(data):
    from advisor.training.phinet import PhiNet

    model = PhiNet(CONFIG).train()
    evaluate(model, data.val_images, data.val_labels, mean=data.mean, std=data.std)
    assert model.training


def test_a_torn_checkpoint_is_reported_not_loaded(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "last.pt").write_bytes(b"\x80\x02 half a pickle")
    with pytest.raises(AdvisorError, match="last.pt cannot be read"):
        load_checkpoint(tmp_path / "run" / "last.pt")
    with pytest.raises(AdvisorError, match="does not exist"):
        load_checkpoint(tmp_path / "run" / "best.pt")


def test_divergence_stops_keeps_the_last_good_epoch_and_says_diverged(data, tmp_path, monkeypatch):
    from advisor.training import trainer

    schedule = trainer.learning_rate
    steps = data.train_labels.numel() // RECIPE.batch_size

    def blows_up_in_epoch_2(step, *args):
        return float("inf") if step >= steps else schedule(step, *args)

    monkeypatch.setattr(trainer, "learning_rate", blows_up_in_epoch_2)
    run = tmp_path / "run"
    with pytest.raises(trainer.Diverged, match=r"diverged in epoch 2.*last good epoch \(1\)") as e:
        train(CONFIG, data, run, RECIPE, progress=False)
    assert e.value.exit_code == 2
    last = load_checkpoint(run / "last.pt")
    assert last[2]["epoch"] == 1
    assert all(torch.isfinite(p).all() for p in last[0].parameters())
    assert [m["epoch"] for m in read_metrics(run)] == [1]
    assert not (run / "result.json").exists()


def test_divergence_in_the_first_epoch_keeps_no_checkpoint(data, tmp_path):
    from advisor.training.trainer import Diverged

    with pytest.raises(Diverged, match="no epoch finished"):
        train(CONFIG, data, tmp_path / "run", RECIPE.replace(lr=1e30), progress=False)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_a_learning_rate_that_is_not_finite_is_refused():
    for lr in (float("inf"), float("nan")):
        with pytest.raises(AdvisorError, match="lr must be a finite number"):
            RECIPE.replace(lr=lr)
