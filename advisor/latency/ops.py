"""Op classes of the latency model and the work each op does.

An int8 op's time on an MCU depends on what kind of loop it runs: a kxk convolution
(im2col + matrix multiply), a 1x1 convolution (a plain matrix multiply), a depthwise
convolution (no reuse across channels), a fully connected layer (one matrix-vector
product, weights read once), an elementwise op or activation (one pass over its elements)
or a pooling / mean (one pass over its input). The work of a multiply-accumulate class is
its MACs (``out_h * out_w * out_c * k_h * k_w * in_c / groups``); of the others, elements.
Every op also pays a fixed overhead (dispatch, per-channel requantization set-up), counted
by the model per op.
"""

from __future__ import annotations

CONV_KXK = "conv_kxk"
CONV_1X1 = "conv_1x1"
DEPTHWISE = "depthwise"
FULLY_CONNECTED = "fully_connected"
ELEMENTWISE = "elementwise"
POOLING = "pooling"
# Order is the coefficient order everywhere (the JSON, the fit's design matrix).
CLASSES = (CONV_KXK, CONV_1X1, DEPTHWISE, FULLY_CONNECTED, ELEMENTWISE, POOLING)
MAC_CLASSES = (CONV_KXK, CONV_1X1, DEPTHWISE, FULLY_CONNECTED)

POOLING_OPS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "SUM", "L2_POOL_2D"})


def op_class(op: str, kernel_hw: tuple[int, int] = (1, 1)) -> str:
    """The class of a TFLite builtin op (`kernel_hw`: a convolution's kernel height, width)."""
    if op == "CONV_2D":
        return CONV_1X1 if tuple(kernel_hw) == (1, 1) else CONV_KXK
    if op == "DEPTHWISE_CONV_2D":
        return DEPTHWISE
    if op == "FULLY_CONNECTED":
        return FULLY_CONNECTED
    if op in POOLING_OPS:
        return POOLING
    return ELEMENTWISE


def op_work(op_cls: str, macs, input_elements, output_elements):
    """The work the latency model charges an op of class `op_cls`: MACs for convolutions
    and fully connected layers, input elements for pooling, output elements otherwise.
    Works on ints and on numpy arrays alike."""
    if op_cls in MAC_CLASSES:
        return macs
    if op_cls == POOLING:
        return input_elements
    return output_elements
