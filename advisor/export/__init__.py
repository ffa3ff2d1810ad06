"""int8 export and proof of fit: PyTorch PhiNet -> TFLite (int8) and ONNX, TFLite Micro
measurement of the tensor arena, cross-runtime verification, board judgement and the
firmware bundle. Heavy dependencies (torch, tensorflow, tflite-micro) load inside functions."""
