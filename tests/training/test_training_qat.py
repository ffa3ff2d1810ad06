"""Quantization-aware fine-tuning: the simulated int8 graph agrees with the converter's int8
model run in TFLite Micro, ranges reach the converter, and fine-tuning runs and resumes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from advisor.config import PhiNetConfig  # noqa: E402
from advisor.errors import AdvisorError  # noqa: E402
from advisor.training.data import stratified_draw  # noqa: E402
from advisor.training.fake_quant import QuantizedPhiNet, activation_qparams  # noqa: E402

# every op kind: stride-2 PADs, residual ADDs, squeeze-excite, the classifier
HSWISH = PhiNetConfig(alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=24)
RELU6 = PhiNetConfig(
    alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=24, h_swish=False, squeeze_excite=True
)


def _images(config: PhiNetConfig, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = config.resolution
    return rng.normal(0, 1, (count, config.in_channels, r, r)).astype(np.float32)


def _tflm_logits(model: bytes, images: np.ndarray) -> tuple[np.ndarray, object]:
    from advisor.export.convert import to_nhwc
    from advisor.export.tflite_file import read_tflite
    from advisor.export.tflm import minimal_arena, run_tflm
    from advisor.export.verify import dequantize, quantize

    info = read_tflite(model)
    outputs = run_tflm(
        model, quantize(to_nhwc(images), info.inputs[0]), minimal_arena(model).arena_bytes
    )
    return dequantize(outputs, info.outputs[0]), info


@pytest.mark.slow
@pytest.mark.parametrize("config", [HSWISH, RELU6], ids=["hswish", "relu6"])
@pytest.mark.parametrize("method", ["converter", "mse"])
def test_fake_quant_graph_agrees_with_the_tflm_int8_model(config, method):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from advisor.export.convert import to_tflite
    from advisor.export.cost_calibration import random_phinet
    from advisor.export.tflite_file import full_int8_problems, read_tflite
    from advisor.training.qat import quantized_logits

    model = random_phinet(config, seed=3)
    calibration, test = _images(config, 32, 1), _images(config, 100, 2)
    qmodel = QuantizedPhiNet(model)
    ranges = qmodel.calibrate(
        [torch.from_numpy(calibration[i : i + 8]) for i in range(0, 32, 8)],
        "minmax" if method == "converter" else method,
    )
    # "converter": the converter calibrates itself (min/max), the simulation the same way
    int8 = to_tflite(
        config, model.state_dict(), calibration, None if method == "converter" else ranges
    )
    simulated = quantized_logits(qmodel, test)
    logits, info = _tflm_logits(int8, test)
    assert full_int8_problems(read_tflite(int8)) == []
    assert (simulated.argmax(1) == logits.argmax(1)).mean() >= 0.99
    steps = np.abs(simulated - logits) / info.outputs[0].scale
    assert (steps <= 1.0 + 1e-4).mean() >= 0.8  # rounding differences add up over 30 layers
    # not trivially: the float model's logits are further away than the simulation's
    with torch.no_grad():
        float_logits = model(torch.from_numpy(test)).numpy()
    assert np.abs(float_logits - logits).mean() > np.abs(simulated - logits).mean()


@pytest.mark.slow
def test_given_ranges_reach_the_converter_and_keep_the_graph():
    pytest.importorskip("tensorflow")
    from advisor.export.convert import to_tflite
    from advisor.export.cost_calibration import random_phinet
    from advisor.export.tflite_file import read_tflite

    model = random_phinet(HSWISH, seed=4)
    calibration = _images(HSWISH, 16, 1)
    qmodel = QuantizedPhiNet(model)
    ranges = qmodel.calibrate([torch.from_numpy(calibration)], "minmax")
    # ranges no calibration would give: half of every min/max
    ranges = {name: (low / 2, high / 2) for name, (low, high) in ranges.items()}
    plain = read_tflite(to_tflite(HSWISH, model.state_dict(), calibration))
    given = read_tflite(to_tflite(HSWISH, model.state_dict(), calibration, ranges))
    assert given.ops == plain.ops
    scales = {t.scale for t in given.tensors if t.dtype == "INT8" and len(t.scales) == 1}
    for low, high in ranges.values():
        scale = float(activation_qparams(torch.tensor(low), torch.tensor(high))[0])
        assert any(abs(scale - s) <= 1e-6 * scale for s in scales), (low, high)
    with pytest.raises(AdvisorError, match="no activation range"):
        to_tflite(HSWISH, model.state_dict(), calibration, dict(list(ranges.items())[1:]))


def test_range_methods_clip_outliers_that_min_max_keeps():
    from advisor.export.cost_calibration import random_phinet

    qmodel = QuantizedPhiNet(random_phinet(HSWISH, seed=5))
    batch = [torch.from_numpy(_images(HSWISH, 16, 1))]
    widths = {}
    for method in ("minmax", "percentile", "mse"):
        ranges = qmodel.calibrate(batch, method)
        widths[method] = sum(high - low for low, high in ranges.values())
        assert all(low <= 0 <= high for low, high in ranges.values())
    assert widths["percentile"] < widths["minmax"] and widths["mse"] <= widths["minmax"]
    with pytest.raises(AdvisorError, match="unknown range method"):
        qmodel.calibrate(batch, "median")


def test_stratified_draw_is_balanced_seeded_and_sorted():
    labels = np.repeat(np.arange(4), [30, 10, 50, 20])
    draw = stratified_draw(labels, 20, seed=0)
    assert np.array_equal(np.bincount(labels[draw]), [5, 5, 5, 5])
    assert np.array_equal(draw, np.sort(draw))
    assert np.array_equal(draw, stratified_draw(labels, 20, seed=0))
    assert not np.array_equal(draw, stratified_draw(labels, 20, seed=1))
    assert np.array_equal(np.bincount(labels[stratified_draw(labels, 22, seed=0)]), [6, 6, 5, 5])
    assert np.array_equal(stratified_draw(labels, 500, seed=0), np.arange(len(labels)))
    with pytest.raises(AdvisorError, match="cannot cover 4 classes"):
        stratified_draw(labels, 3, seed=0)


TINY = PhiNetConfig(alpha=0.25, beta=1.0, t0=3, num_layers=4, resolution=16, num_classes=3)


def _tiny_data():
    """48 noisy 16x16 images whose dominant channel is the class."""
    rng = np.random.default_rng(0)
    labels = np.arange(48) % 3
    images = rng.integers(0, 110, (48, 3, 16, 16))
    images[np.arange(48), labels] += 140
    return torch.from_numpy(images.astype(np.uint8)), torch.from_numpy(labels)


def _finetune(out_dir, resume=False):
    from advisor.training.phinet import PhiNet
    from advisor.training.qat import QATSettings, finetune, preprocess
    from advisor.training.recipe import Recipe

    torch.manual_seed(0)
    model = PhiNet(TINY).eval()
    images, labels = _tiny_data()
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    return model, finetune(
        model,
        images,
        labels,
        preprocess(images[:12], mean, std, 16),
        mean=mean,
        std=std,
        recipe=Recipe.quick(resolution=16, batch_size=16, optimizer="adamw"),
        out_dir=out_dir,
        settings=QATSettings(epochs=2, steps_per_epoch=3, lr_factor=0.5),
        resume=resume,
    )


@pytest.mark.slow
def test_qat_runs_and_resumes_to_the_same_weights(tmp_path, monkeypatch):
    from advisor.training import qat

    model, whole = _finetune(tmp_path / "whole")
    assert whole.epochs_completed == 2 and len(whole.history) == 2
    assert all(np.isfinite(r["train_loss"]) for r in whole.history)
    original = model.state_dict()
    tuned = whole.model.model.state_dict()
    assert any(not torch.equal(original[k], tuned[k]) for k in original)
    assert all(high > low for low, high in whole.ranges.values())

    real_save = qat.checkpoint.save_atomic

    def save_then_interrupt(payload, path):
        real_save(payload, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(qat.checkpoint, "save_atomic", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _finetune(tmp_path / "split")
    monkeypatch.setattr(qat.checkpoint, "save_atomic", real_save)
    with pytest.raises(AdvisorError, match="--resume"):
        _finetune(tmp_path / "split")
    _, resumed = _finetune(tmp_path / "split", resume=True)
    assert resumed.epochs_completed == 2
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
