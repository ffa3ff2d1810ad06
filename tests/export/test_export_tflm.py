"""TFLite Micro: the minimal arena is minimal, int8 outputs agree with tf.lite's reference
kernels and with PyTorch, and an op TFLM lacks is named."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import AdvisorError
from advisor.export.tflite_file import read_tflite
from advisor.export.tflm import _Worker, minimal_arena, resolver_method, run_tflm
from advisor.export.verify import quantize, verify_int8


def test_minimal_arena_runs_and_one_step_less_does_not(exported):
    arena = exported.arena
    with _Worker(exported.int8) as worker:
        assert worker.request(arena.arena_bytes)["ok"]
        assert not worker.request(arena.arena_bytes - 16)["ok"]
    assert arena.head_bytes > 0 and arena.tail_bytes > 0
    # what TFLM reports as allocated under-reports the arena it needs (temporaries while
    # preparing ops): the measured minimum is at least that, and not much more
    assert arena.head_bytes + arena.tail_bytes <= arena.arena_bytes
    assert arena.arena_bytes <= arena.head_bytes + arena.tail_bytes + 1024
    assert 0 < arena.pointer_structs_bytes < arena.tail_bytes
    # the activation plan holds at least the largest activation: block 1's expanded input
    assert arena.head_bytes >= 12 * 12 * 24


def test_worker_survives_an_arena_that_crashes_tflm(exported):
    """The host TFLM build segfaults for some too-small arenas; the search must go on."""
    with _Worker(exported.int8) as worker:
        replies = [worker.request(size) for size in (512, 2048, 8192, exported.arena.arena_bytes)]
    assert [r["ok"] for r in replies] == [False, False, False, True]


def test_int8_agrees_with_tflite_reference_and_pytorch(exported):
    result = verify_int8(
        exported.int8,
        exported.test_images,
        exported.test_logits,
        exported.arena.arena_bytes,
        labels=exported.test_logits.argmax(1),
    )
    assert result.samples == result.reference_samples == 16
    assert result.tflm_tflite_equal_fraction == 1.0
    assert result.tflm_tflite_max_abs_diff == 0
    assert result.tflm_torch_top1_agreement >= 0.75
    assert result.float_top1 == 1.0  # labels are PyTorch's own predictions
    assert result.int8_top1 == result.tflm_torch_top1_agreement
    # the dequantized int8 logits track the float ones
    correlation = np.corrcoef(result.tflm_logits.ravel(), exported.test_logits.ravel())[0, 1]
    assert correlation > 0.95


def test_run_tflm_in_too_small_an_arena_is_an_error(exported):
    inputs = quantize(
        exported.test_images[:1].transpose(0, 2, 3, 1), read_tflite(exported.int8).inputs[0]
    )
    with pytest.raises(AdvisorError, match="could not run"):
        run_tflm(exported.int8, inputs, exported.arena.arena_bytes // 2)


def test_unsupported_op_is_named(unsupported_model):
    assert "TOPK_V2" in read_tflite(unsupported_model).ops
    with pytest.raises(AdvisorError, match="does not support op TOPK_V2"):
        minimal_arena(unsupported_model)


@pytest.mark.parametrize(
    "op, method",
    [
        ("CONV_2D", "AddConv2D"),
        ("DEPTHWISE_CONV_2D", "AddDepthwiseConv2D"),
        ("HARD_SWISH", "AddHardSwish"),
        ("FULLY_CONNECTED", "AddFullyConnected"),
        ("RELU6", "AddRelu6"),
        ("MEAN", "AddMean"),
    ],
)
def test_resolver_method_names(op, method):
    assert resolver_method(op) == method


def test_not_a_tflite_file_is_refused(tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(AdvisorError, match="not a TFLite model"):
        read_tflite(path)
    with pytest.raises(AdvisorError, match="does not exist"):
        read_tflite(tmp_path / "missing.tflite")
