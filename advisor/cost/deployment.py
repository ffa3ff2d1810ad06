"""What the cost model assumes about the int8 deployment: the graph and the flash constants.

Every constant here is an assumption about how a PhiNet is converted to an int8 TFLite
flatbuffer and run by TFLite Micro. Edit them here only; the cost model reads nothing else.

Graph (as ``advisor/export/tf_graph.py`` builds it and the TFLite converter rewrites it;
the op sequence was checked against converted models):
BatchNorm is folded into the convolution before it; ReLU6 is fused into the op before it;
h-swish is a HARD_SWISH op with its own output tensor; squeeze-excite is MEAN, CONV_2D,
[HARD_SWISH], CONV_2D, LOGISTIC, MUL; a residual is an ADD that keeps the block's input
alive through the block; the classifier is MEAN then FULLY_CONNECTED. Input and
activations are int8, one byte per element.

Flash: weights, biases and quantization data are counted exactly; ``TENSOR_BYTES`` and
``MODEL_BYTES`` are fitted to real .tflite files (see below). Not modelled: the converter
stores identical buffers once, so equal-length all-zero biases (stem depthwise,
squeeze-excite convs) share storage; this estimate counts each (the fit absorbs the
average; residuals stay within +-1.3 %). The measurements are in
tests/cost/tflite_measurements.json, with tests that fail when the model drifts from them.
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
# Fitted: everything else a tensor costs (Tensor table, shape, name, its Buffer entry and
# its share of the Operator tables) and the model's fixed bytes (header, operator codes,
# subgraph, metadata), on the 16 PhiNets of tests/cost/tflite_measurements.json (converted
# by advisor.export.convert, TF 2.21.0, BatchNorm statistics randomized as after training;
# alpha 0.15-1.5, N 3-10, 24-160 px; .tflite sizes 20 KB-830 KB). The fit minimises the
# worst over-estimate subject to never under-estimating (a flash budget must not be
# overrun): every estimate is 0.0-2.9 % above the real size (least squares gave +-1.3 %,
# under on half of them). `python bench/bench_export.py --fit-flash` refits; do so if the
# converter or the export graph changes.
TENSOR_BYTES = 135
MODEL_BYTES = 1238
