"""What the cost model assumes about the int8 deployment: the graph, the flash and the arena
constants.

Every constant here is an assumption about how a PhiNet is converted to an int8 TFLite
flatbuffer and run by TFLite Micro. Edit them here only; the cost model reads nothing else.

Graph (as ``advisor/export/tf_graph.py`` builds it and the TFLite converter rewrites it;
the op sequence was checked against converted models):
BatchNorm is folded into the convolution before it; ReLU6 is fused into the op before it;
h-swish is a HARD_SWISH op with its own output tensor; squeeze-excite is MEAN, CONV_2D,
[HARD_SWISH], CONV_2D, LOGISTIC, MUL; a residual is an ADD that keeps the block's input
alive through the block; the classifier is MEAN then FULLY_CONNECTED. Input and
activations are int8, one byte per element.

Flash: weights, biases and quantization data are counted exactly; the converter stores
identical buffers once, so an all-zero bias (stem depthwise, squeeze-excite convs) of a
length already stored adds no data. ``ACTIVATION_TENSOR_BYTES``,
``CONSTANT_TENSOR_BYTES`` and ``MODEL_BYTES`` are fitted to real .tflite files (see
below). The measurements are in
tests/cost/tflite_measurements.json, with tests that fail when the model drifts from them.

RAM: the activation plan is exact (peak_ram_bytes); the rest of TFLite Micro's tensor arena
(its persistent structs and the planner's scratch) is fitted on measured arenas (below).
"""

# --- element sizes -----------------------------------------------------------------------
ACTIVATION_BYTES = 1  # int8 activations, model input included
WEIGHT_BYTES = 1  # int8 weights
BIAS_BYTES = 4  # int32 biases

# --- graph conventions -------------------------------------------------------------------
# TFLite has no h-swish fused activation: each h-swish is a HARD_SWISH op with an output.
HARD_SWISH_IS_SEPARATE_OP = True
# micromind's stem ZeroPad2d ((0,1,0,1) even R, (1,1,1,1) odd R) + VALID 3x3/2 is exactly
# TF's SAME padding, so the export writes one DEPTHWISE_CONV_2D and no PAD op.
STEM_PAD_IS_SEPARATE_OP = False
# Blocks pad their stride-2 depthwise conv by 1 on every side. For an odd input side that
# is TF's SAME padding and the converter folds the PAD into the conv; for an even side SAME
# would pad only bottom/right, so an explicit PAD op (with its own tensor) stays.
PAD_OP_FOR_EVEN_STRIDE2_INPUT = True
# A squeeze-excite MEAN over a 1x1 map is an identity: the converter drops it.
SE_MEAN_DROPPED_AT_1X1 = True
# The converter gives every CONV_2D / DEPTHWISE_CONV_2D an int32 bias, a zero one where
# the PyTorch layer has none (stem depthwise, squeeze-excite convs).
EVERY_CONV_HAS_BIAS = True

# --- flatbuffer bytes ---------------------------------------------------------------------
# Per-channel quantization: a float32 scale and an int64 zero point per output channel,
# stored for each weight tensor and each bias tensor (exact).
QUANT_BYTES_PER_CHANNEL = 12
# Every activation tensor (model input included) has a per-tensor scale and zero point.
ACTIVATION_QUANT_BYTES = 12
# Data of the small int32 constants some ops take: int32[4, 2] paddings, int32[2] axes.
# Identical constants are stored once, so all PADs share one, all MEANs another.
SHARED_CONSTANT_BYTES = {"PAD": 4 * 2 * 4, "MEAN": 2 * 4}
# Fitted: everything else a tensor costs (Tensor table entry, shape, name, its Buffer entry,
# and for a constant its data's alignment padding) and the model's fixed bytes (header,
# operator codes, subgraph, operators, metadata), on the 65 PhiNets of
# tests/cost/tflite_measurements.json (converted by advisor.export.convert, TF 2.21.0,
# BatchNorm statistics randomized as after training; alpha 0.05-2.2, N 3-10, 8-160 px,
# with and without squeeze-excite / h-swish; .tflite sizes 11 KB-3.3 MB) by linear
# programming: the least worst over-estimate subject to never under-estimating (a flash
# budget must not be overrun), tensor constants rounded. Every estimate is 0.0-2.8 %
# above the real size. `python bench/bench_export.py --fit-flash` refits; do so if the
# converter or the export graph changes.
ACTIVATION_TENSOR_BYTES = 122
CONSTANT_TENSOR_BYTES = 161
MODEL_BYTES = 575

# --- tensor arena (RAM) -------------------------------------------------------------------
# TFLite Micro's minimal arena = head + tail. The head holds the activation plan
# (peak_ram_bytes rounded up to TFLM's 16-byte alignment: exact), but while the model is
# prepared the memory planner's scratch (records for every tensor and buffer) sits there,
# and for small models that is larger. The tail is persistent: a TfLiteEvalTensor per
# tensor, a node struct and op data per op, and per output channel of CONV_2D,
# DEPTHWISE_CONV_2D and FULLY_CONNECTED an int32 multiplier and an int32 shift (8 bytes).
#   arena = max(round16(peak),
#               PLANNER_BYTES_PER_TENSOR * T + PLANNER_BYTES_PER_OP * ops + PLANNER_BYTES)
#           + ARENA_BYTES_PER_OP * ops + ARENA_BYTES_PER_TENSOR * T
#           + ARENA_BYTES_PER_CHANNEL * C + ARENA_BYTES
# T: tensors (activations and constants), ops: ops, C: output channels of the weighted
# ops. Fitted by linear programming (least worst over-estimate, never under, coefficients
# rounded up) on the 65 whole arenas of tests/cost/tflite_measurements.json (alpha
# 0.05-2.2, N 3-10, 8-160 px, with and without squeeze-excite / h-swish; 14 of them small
# enough that the planner's scratch sets the head): every estimate is 0.0-4.2 % above the
# measured arena for alpha >= 0.15 at >= 24 px, and up to 9.0 % above for tinier models,
# where the planner term (a linear fit to a scratch that is not quite linear) sets it; `python bench/bench_export.py --fit-arena` refits. Measured by
# advisor.export.tflm.minimal_arena on the 64-bit x86-64 host build of tflite-micro
# 0.dev20261023182759. Pointer-sized struct fields are half as large on a 32-bit MCU, so
# there the tail is smaller and this figure is a conservative upper bound.
ARENA_ALIGNMENT = 16
PLANNER_BYTES_PER_TENSOR = 63
PLANNER_BYTES_PER_OP = 18
PLANNER_BYTES = -755
ARENA_BYTES_PER_OP = 54
ARENA_BYTES_PER_TENSOR = 73
ARENA_BYTES_PER_CHANNEL = 8
ARENA_BYTES = 602
