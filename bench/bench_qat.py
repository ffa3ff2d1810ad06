"""int8 accuracy drop: post-training quantization vs quantization-aware fine-tuning.

For each trained PhiNet (an ``advisor train`` run directory) and each calibration draw
(stratified, seeded: the same number of training images per class), measured in TFLite Micro
(host build) on the test images:

* ``float``: PyTorch float top-1 (the reference every drop is taken from);
* ``ptq``: the converter's own calibration (min/max over the draw), as ``advisor build``
  did before;
* ``ptq-<method>``: the same weights with activation ranges chosen by ``--range-methods``
  (percentile, MSE) and handed to the converter as FakeQuant ranges;
* ``qat``: quantization-aware fine-tuning from that draw's ranges, exported with the ranges
  it learned; ``qat-ptq``: the fine-tuned weights recalibrated by the converter (min/max).

Drops are in points (float top-1 minus int8 top-1, x100). The fake-quant graph's own top-1
(PyTorch) is printed beside TFLM's for the QAT row as a check of the simulation.

The runs measured for issue 15 (32x32, --split test+val, batch 128, CPU, one thread):

    Z=../shared/datasets/cifar10/cifar10-jpeg.zip
    advisor train --alpha 0.25 --beta 1 --t0 4 --layers 6 --data $Z --split test+val \\
        --resolution 32 --epochs 3 --batch-size 128 --threads 1 --out runs/small     # 17.8k
    advisor train --alpha 0.4 --beta 1 --t0 5 --layers 7 ... --epochs 3 --out runs/medium  # 90k
    advisor train --alpha 0.5 --beta 1.4 --t0 6 --layers 8 ... --epochs 1 --out runs/large # 643k
    python bench/bench_qat.py --data $Z --run runs/small --test-images 0 \\
        --range-methods mse,percentile
    python bench/bench_qat.py --data $Z --run runs/medium --test-images 5000 \\
        --range-methods percentile
    python bench/bench_qat.py --data $Z --run runs/large --test-images 2000 \\
        --range-methods percentile
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def tflm_top1(
    model: bytes, images: np.ndarray, labels: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """(top-1, seconds, predicted classes) of an int8 .tflite in TFLite Micro on preprocessed
    NCHW images."""
    from advisor.export.convert import to_nhwc
    from advisor.export.tflite_file import read_tflite
    from advisor.export.tflm import minimal_arena, run_tflm
    from advisor.export.verify import dequantize, quantize, top1

    started = time.perf_counter()
    info = read_tflite(model)
    arena = minimal_arena(model).arena_bytes
    outputs = run_tflm(model, quantize(to_nhwc(images), info.inputs[0]), arena)
    logits = dequantize(outputs, info.outputs[0])
    predicted = top1(logits)
    return float((predicted == labels).mean()), time.perf_counter() - started, predicted


def add_row(rows, reference, variant, draw, measured, extra=None) -> None:
    top1, seconds, predicted = measured
    row = {
        **{k: v for k, v in reference.items() if k != "float_classes"},
        "variant": variant,
        "draw": draw,
        "int8_top1": top1,
        "drop_points": round(100 * (reference["float_top1"] - top1), 3),
        "agreement_with_float": round(float((predicted == reference["float_classes"]).mean()), 4),
        "tflm_seconds": round(seconds, 1),
        **(extra or {}),
    }
    rows.append(row)
    print(
        f"  draw {draw} {variant:16s} int8 {100 * top1:6.2f}%  drop "
        f"{row['drop_points']:+.2f} pts  agree {100 * row['agreement_with_float']:.1f}%  "
        + " ".join(f"{k} {v}" for k, v in (extra or {}).items()),
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the data the runs were trained on")
    parser.add_argument("--run", action="append", required=True, help="advisor train --out DIR")
    parser.add_argument("--draws", type=int, default=3, help="calibration draws (seeds 0..)")
    parser.add_argument("--calibration-images", type=int, default=500)
    parser.add_argument(
        "--test-images", type=int, default=0, help="stratified test subset (0 = all)"
    )
    parser.add_argument("--range-methods", default="mse,percentile")
    parser.add_argument("--qat-steps", type=int, default=100, help="QAT optimiser steps")
    parser.add_argument("--qat-lr-factor", type=float, default=0.05)
    parser.add_argument("--qat-range-method", default="percentile")
    parser.add_argument("--qat-distillation", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", default="bench_qat_work", help="QAT checkpoints go here")
    parser.add_argument("--json", help="write every row here")
    args = parser.parse_args()

    import torch

    from advisor.cache import user_cache_dir
    from advisor.export.convert import to_tflite
    from advisor.training.checkpoint import load_checkpoint
    from advisor.training.data import load_dataset, stratified_draw
    from advisor.training.fake_quant import QuantizedPhiNet
    from advisor.training.qat import QATSettings, finetune, preprocess, quantized_logits
    from advisor.training.recipe import Recipe

    torch.set_num_threads(args.threads)
    methods = [m for m in args.range_methods.split(",") if m]
    rows = []
    for run in args.run:
        run_dir = Path(run)
        model, config, extra = load_checkpoint(run_dir / "best.pt")
        recipe = Recipe.from_dict(json.loads((run_dir / "recipe.json").read_text()))
        data = load_dataset(
            args.data, recipe.resolution, recipe.split, recipe.seed, user_cache_dir()
        )
        mean, std = tuple(extra["normalization"]["mean"]), tuple(extra["normalization"]["std"])
        test_labels_all = data.test_labels.numpy()
        test_pick = (
            np.arange(len(test_labels_all))
            if args.test_images == 0
            else stratified_draw(test_labels_all, args.test_images, 12345)
        )
        test_images = preprocess(data.test_images[test_pick], mean, std, config.resolution)
        test_labels = test_labels_all[test_pick]
        with torch.no_grad():
            float_logits = np.concatenate(
                [
                    model(torch.from_numpy(test_images[i : i + 256])).numpy()
                    for i in range(0, len(test_images), 256)
                ]
            )
        float_top1 = float((float_logits.argmax(1) == test_labels).mean())
        test = (test_images, test_labels)
        params = sum(p.numel() for p in model.parameters())
        name = run_dir.name
        print(
            f"\n{name}: {params:,} params, float top-1 {100 * float_top1:.2f}% on "
            f"{len(test_labels)} test images (PyTorch)",
            flush=True,
        )

        reference = {
            "model": name,
            "params": params,
            "float_top1": float_top1,
            "float_classes": float_logits.argmax(1),
        }
        record = functools.partial(add_row, rows, reference)

        for draw in range(args.draws):
            pick = stratified_draw(data.train_labels.numpy(), args.calibration_images, draw)
            calibration = preprocess(data.train_images[pick], mean, std, config.resolution)
            state = model.state_dict()
            record("ptq", draw, tflm_top1(to_tflite(config, state, calibration), *test))
            for method in methods:
                qmodel = QuantizedPhiNet(model)
                ranges = qmodel.calibrate(
                    (
                        torch.from_numpy(calibration[i : i + 64])
                        for i in range(0, len(calibration), 64)
                    ),
                    method,
                )
                converted = to_tflite(config, state, calibration, ranges)
                record(f"ptq-{method}", draw, tflm_top1(converted, *test))
            settings = QATSettings(
                epochs=1,
                steps_per_epoch=args.qat_steps,
                lr_factor=args.qat_lr_factor,
                range_method=args.qat_range_method,
                distillation=args.qat_distillation,
                seed=draw,
            )
            work = Path(args.work) / name / f"draw{draw}"
            checkpoint_path = work / "qat_last.pt"
            if checkpoint_path.exists():
                checkpoint_path.unlink()
            qat = finetune(
                model,
                data.train_images,
                data.train_labels,
                calibration,
                mean=mean,
                std=std,
                recipe=recipe,
                out_dir=work,
                settings=settings,
            )
            simulated = float(
                (quantized_logits(qat.model, test_images).argmax(1) == test_labels).mean()
            )
            qat_state = qat.model.model.state_dict()
            record(
                "qat",
                draw,
                tflm_top1(to_tflite(config, qat_state, calibration, qat.ranges), *test),
                {
                    "qat_seconds": round(qat.seconds, 1),
                    "qat_images": args.qat_steps * recipe.batch_size,
                    "simulated_top1": round(simulated, 4),
                },
            )
            record("qat-ptq", draw, tflm_top1(to_tflite(config, qat_state, calibration), *test))

    print("\nsummary (drop in points, float top-1 minus TFLM int8 top-1):")
    print(
        f"{'model':10s} {'params':>8s} {'float':>7s} {'variant':16s} median   worst  spread"
        "  agree(median)"
    )
    summary = []
    for name in dict.fromkeys(r["model"] for r in rows):
        for variant in dict.fromkeys(r["variant"] for r in rows if r["model"] == name):
            chosen = [r for r in rows if r["model"] == name and r["variant"] == variant]
            drops = [r["drop_points"] for r in chosen]
            line = {
                "model": name,
                "params": chosen[0]["params"],
                "float_top1": chosen[0]["float_top1"],
                "variant": variant,
                "median_drop": statistics.median(drops),
                "worst_drop": max(drops),
                "spread": max(drops) - min(drops),
                "median_agreement": statistics.median(r["agreement_with_float"] for r in chosen),
                "draws": len(drops),
            }
            summary.append(line)
            print(
                f"{name:10s} {line['params']:8,d} {100 * line['float_top1']:6.2f}% "
                f"{variant:16s} {line['median_drop']:+6.2f} {line['worst_drop']:+6.2f} "
                f"{line['spread']:6.2f}  {100 * line['median_agreement']:.1f}%"
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
