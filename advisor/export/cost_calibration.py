"""Cost-model calibration (not int8 calibration: the representative images for quantization
are in ``advisor.export.convert``). Measured vs estimated: convert PhiNets with random weights (sizes do not depend on the
values, as long as no two bias buffers are equal: see ``randomize_batchnorm``), measure
.tflite bytes and the TFLite Micro arena, and put the cost model's estimates beside them.
The cost model's deployment constants are calibrated on this."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from advisor.config import PhiNetConfig

# Configurations spanning the study's grid (alpha, beta, t0, N) at several resolutions,
# kept small enough to convert in seconds on a laptop CPU.
CALIBRATION_CONFIGS = (
    PhiNetConfig(alpha=0.15, beta=0.75, t0=4, num_layers=4, resolution=32),
    PhiNetConfig(alpha=0.15, beta=1.35, t0=6, num_layers=9, resolution=32),
    PhiNetConfig(alpha=0.25, beta=1.0, t0=5, num_layers=7, resolution=32),
    PhiNetConfig(alpha=0.3, beta=1.05, t0=5, num_layers=6, resolution=48),
    PhiNetConfig(alpha=0.35, beta=1.0, t0=6, num_layers=7, resolution=64),
    PhiNetConfig(alpha=0.5, beta=0.75, t0=4, num_layers=5, resolution=40),
    PhiNetConfig(alpha=0.5, beta=1.35, t0=6, num_layers=8, resolution=32),
    PhiNetConfig(alpha=0.75, beta=1.0, t0=6, num_layers=5, resolution=32),
    PhiNetConfig(alpha=0.9, beta=1.05, t0=4, num_layers=7, resolution=24),
    PhiNetConfig(alpha=0.2, beta=1.2, t0=3, num_layers=5, resolution=96),
    PhiNetConfig(alpha=1.5, beta=0.75, t0=5, num_layers=4, resolution=32),
    PhiNetConfig(
        alpha=0.3, beta=1.0, t0=4, num_layers=6, resolution=33, h_swish=False, squeeze_excite=False
    ),
)


@dataclass(frozen=True)
class CalibrationRow:
    config: PhiNetConfig
    model_bytes: int  # measured: .tflite size
    arena_bytes: int  # measured: smallest TFLM arena
    head_bytes: int
    tail_bytes: int
    flash_estimate: int  # cost model
    peak_ram_estimate: int  # cost model: the activation plan (the arena's head)
    arena_estimate: int  # cost model: the whole tensor arena

    @property
    def flash_ratio(self) -> float:
        return self.flash_estimate / self.model_bytes

    @property
    def arena_ratio(self) -> float:
        return self.arena_estimate / self.arena_bytes

    def to_dict(self) -> dict:
        data = asdict(self)
        data["config"] = self.config.to_dict()
        data["flash_ratio"] = round(self.flash_ratio, 4)
        data["arena_ratio"] = round(self.arena_ratio, 4)
        return data


def randomize_batchnorm(model, seed: int) -> None:
    """BatchNorm statistics and affine parameters as after training. Freshly initialised ones
    fold into all-zero biases, which the converter stores once, shrinking the file."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.data.copy_(torch.rand(n, generator=generator) * 0.6 - 0.3)


def random_phinet(config: PhiNetConfig, seed: int = 0):
    """advisor's PhiNet with random weights and trained-looking BatchNorm, in eval mode."""
    import torch

    from advisor.training.phinet import PhiNet

    torch.manual_seed(seed)
    model = PhiNet(config)
    randomize_batchnorm(model, seed)
    return model.eval()


def measure(config: PhiNetConfig, calibration_images: int = 4, seed: int = 0) -> CalibrationRow:
    from advisor.cost import estimate
    from advisor.export.convert import to_tflite
    from advisor.export.tflm import minimal_arena

    rng = np.random.default_rng(seed)
    r = config.resolution
    images = rng.normal(0, 1, (calibration_images, config.in_channels, r, r)).astype(np.float32)
    model = to_tflite(config, random_phinet(config, seed).state_dict(), images)
    arena = minimal_arena(model)
    cost = estimate(config)
    return CalibrationRow(
        config,
        len(model),
        arena.arena_bytes,
        arena.head_bytes,
        arena.tail_bytes,
        cost.flash_bytes,
        cost.peak_ram_bytes,
        cost.arena_bytes,
    )


def measure_all(configs: Iterable[PhiNetConfig] = CALIBRATION_CONFIGS) -> list[CalibrationRow]:
    return [measure(config) for config in configs]
