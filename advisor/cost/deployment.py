"""What the cost model assumes about the int8 deployment: the graph and the flash constants.

Every constant here is an assumption about how a PhiNet is converted to an int8 TFLite
flatbuffer and run by TFLite Micro. Edit them here only; the cost model reads nothing else.

Graph (as ``advisor/export/tf_graph.py`` builds it, then the TFLite converter):
BatchNorm is folded into the convolution before it; ReLU6 is fused into the op before it;
h-swish is a HARD_SWISH op with its own output tensor; squeeze-excite is MEAN, CONV_2D,
[HARD_SWISH], CONV_2D, LOGISTIC, MUL; a residual is an ADD that keeps the block's input
alive through the block; the classifier is MEAN then FULLY_CONNECTED. Input and
activations are int8, one byte per element.

Flash constants are first estimates, NOT yet calibrated against real .tflite files:
the export work should fit ``TENSOR_BYTES``, ``CONSTANT_BUFFER_BYTES``, ``OPERATOR_BYTES``
and ``MODEL_BYTES`` to the sizes the converter writes and update them here.
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
# Blocks pad their stride-2 depthwise conv by 1 on every side; TF's SAME would pad only
# bottom/right for even sizes, so the export writes an explicit PAD op (its own tensor).
BLOCK_STRIDE2_PAD_IS_SEPARATE_OP = True
# The converter gives every CONV_2D / DEPTHWISE_CONV_2D an int32 bias, a zero one where
# the PyTorch layer has none (stem depthwise, squeeze-excite convs).
EVERY_CONV_HAS_BIAS = True

# --- flatbuffer overhead (estimates, to calibrate) ---------------------------------------
# Per-channel quantization: a float32 scale and an int64 zero point per output channel,
# stored for each weight tensor and each bias tensor.
QUANT_BYTES_PER_CHANNEL = 12
# One tensor entry: Tensor table, shape vector, name string (the converter's names are
# long), per-tensor quantization table.
TENSOR_BYTES = 120
# One constant (weights, bias, PAD paddings, MEAN axes): its Buffer table and alignment,
# on top of TENSOR_BYTES and its data.
CONSTANT_BUFFER_BYTES = 24
# One Operator table: inputs and outputs vectors, builtin options.
OPERATOR_BYTES = 56
# Header, operator codes, subgraph, signature and metadata ("min_runtime_version").
MODEL_BYTES = 1200
# Data of the small int32 constants some ops take.
PAD_PADDINGS_BYTES = 4 * 2 * 4  # int32[4, 2]
MEAN_AXES_BYTES = 2 * 4  # int32[2]
