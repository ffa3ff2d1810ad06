"""PhiNet in PyTorch, layer for layer micromind 0.2.1's, with the same state_dict keys.

micromind checkpoints load with ``load_state_dict(..., strict=True)`` and give the same
outputs; the widths come from :mod:`advisor.cost.architecture`, the rules the cost model
uses too. Only plain modules are used (Conv2d, BatchNorm2d, ZeroPad2d, Hardswish or ReLU6,
Sigmoid, AdaptiveAvgPool2d, Flatten, Linear, Dropout2d) and the forward pass has no
data-dependent control flow, so the graph exports one module to one op.

Layout (the state_dict keys follow it, as in micromind)::

    _layers[0]       ZeroPad2d        stem padding: (0,1,0,1) for even R, (1,1,1,1) for odd R
    _layers[1]       Stem             _layers: 0 depthwise 3x3/2 (no bias, no BN),
                                      1 pointwise 1x1, 2 BatchNorm2d, 3 activation
    _layers[2 + n]   PhiNetBlock n    n = 0..max(N, 3); see PhiNetBlock for its _layers
    classifier       Sequential       0 AdaptiveAvgPool2d(1), 1 Flatten, 2 Linear (include_top)

To walk the layers in order use the named properties rather than indices: ``model.pad``,
``model.stem`` (``.depthwise``, ``.pointwise``, ``.bn``, ``.activation``), ``model.blocks``
(each with ``.expand``, ``.expand_bn``, ``.expand_activation``, ``.dropout``,
``.depthwise``, ``.depthwise_bn``, ``.depthwise_activation``, ``.se``, ``.project``,
``.project_bn``, ``.residual``; the first three are None for block 0, ``.se`` is None
without squeeze-excite) and ``model.classifier``.

BatchNorm: micromind builds every BatchNorm2d with ``momentum=0.999``. In PyTorch's
convention that weights the *new* batch by 0.999, so its running statistics are almost
only the last batch's (Keras' ``momentum=0.999`` means the opposite; the value was carried
over). Here the default is PyTorch's 0.1; ``eps=1e-3`` is kept, and the buffers (and so
the state_dict) are the same, so checkpoints load either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from advisor.config import PhiNetConfig
from advisor.cost.architecture import KERNEL_SIZE, BlockSpec, phinet_widths, stem_padding

BN_EPS = 1e-3  # micromind's
BN_MOMENTUM = 0.1  # PyTorch convention; micromind's 0.999 keeps only the last batch
DROPOUT = 0.05  # micromind's Dropout2d rate in every block (identity in eval mode)


def _activation(h_swish: bool) -> nn.Module:
    # micromind's ReLUMax(6) is clamp(x, 0, 6): exactly ReLU6.
    return nn.Hardswish() if h_swish else nn.ReLU6()


def _bn(channels: int, momentum: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=momentum)


class Stem(nn.Module):
    """Depthwise 3x3 stride 2 on the (padded) input, then 1x1 conv, BatchNorm, activation."""

    def __init__(self, in_channels: int, out_channels: int, h_swish: bool, bn_momentum: float):
        super().__init__()
        self._layers = nn.ModuleList(
            [
                nn.Conv2d(
                    in_channels, in_channels, KERNEL_SIZE, stride=2, groups=in_channels, bias=False
                ),
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                _bn(out_channels, bn_momentum),
                _activation(h_swish),
            ]
        )

    depthwise = property(lambda self: self._layers[0])
    pointwise = property(lambda self: self._layers[1])
    bn = property(lambda self: self._layers[2])
    activation = property(lambda self: self._layers[3])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self._layers:
            x = layer(x)
        return x


class SqueezeExcite(nn.Module):
    """x * sigmoid(conv2(act(conv(mean(x))))): two bias-free 1x1 convs, no BatchNorm."""

    def __init__(self, channels: int, reduced: int, h_swish: bool):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.se_conv = nn.Conv2d(channels, reduced, 1, bias=False)
        self.activation = _activation(h_swish)
        self.se_conv2 = nn.Conv2d(reduced, channels, 1, bias=False)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.se_conv2(self.activation(self.se_conv(self.pool(x)))))
        return x * scale


class PhiNetBlock(nn.Module):
    """[1x1 expand, BN, act] (blocks n >= 1), Dropout2d, depthwise 3x3 (stride 1 or 2,
    padding 1 on every side), BN, act, [squeeze-excite], 1x1 project, BN, [+ block input].

    ``_layers`` holds them in that order (micromind's indices): with expansion
    0 expand, 1 expand_bn, 2 expand_activation, 3 dropout, 4 depthwise, 5 depthwise_bn,
    6 depthwise_activation, [7 se], then project and project_bn; block 0 starts at dropout.
    The project has no activation.
    """

    def __init__(self, spec: BlockSpec, h_swish: bool, bn_momentum: float, dropout: float):
        super().__init__()
        in_channels, expanded, out = (
            int(spec.in_channels),
            int(spec.expanded),
            int(spec.out_channels),
        )
        layers: list[nn.Module] = []
        if spec.has_expansion:
            layers += [
                nn.Conv2d(in_channels, expanded, 1, bias=False),
                _bn(expanded, bn_momentum),
                _activation(h_swish),
            ]
        layers.append(nn.Dropout2d(dropout))
        layers += [
            nn.Conv2d(
                expanded,
                expanded,
                KERNEL_SIZE,
                stride=spec.stride,
                padding=KERNEL_SIZE // 2,
                groups=expanded,
                bias=False,
            ),
            _bn(expanded, bn_momentum),
            _activation(h_swish),
        ]
        if spec.se_channels is not None:
            layers.append(SqueezeExcite(expanded, int(spec.se_channels), h_swish))
        layers += [nn.Conv2d(expanded, out, 1, bias=False), _bn(out, bn_momentum)]
        self._layers = nn.ModuleList(layers)
        self.index = spec.index
        self.stride = spec.stride
        self.residual = bool(spec.residual)
        self._offset = 3 if spec.has_expansion else 0

    def _at(self, position: int) -> nn.Module:
        return self._layers[self._offset + position]

    expand = property(lambda self: self._layers[0] if self._offset else None)
    expand_bn = property(lambda self: self._layers[1] if self._offset else None)
    expand_activation = property(lambda self: self._layers[2] if self._offset else None)
    dropout = property(lambda self: self._at(0))
    depthwise = property(lambda self: self._at(1))
    depthwise_bn = property(lambda self: self._at(2))
    depthwise_activation = property(lambda self: self._at(3))
    se = property(lambda self: self._at(4) if isinstance(self._at(4), SqueezeExcite) else None)
    project = property(lambda self: self._layers[-2])
    project_bn = property(lambda self: self._layers[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for layer in self._layers:
            y = layer(y)
        return y + x if self.residual else y


class PhiNet(nn.Module):
    """micromind 0.2.1's PhiNet built from a :class:`~advisor.config.PhiNetConfig`.

    ``bn_momentum`` is PyTorch's (weight of the new batch); pass 0.999 to train exactly as
    micromind does. ``dropout`` is the Dropout2d rate inside every block.
    """

    def __init__(
        self, config: PhiNetConfig, *, bn_momentum: float = BN_MOMENTUM, dropout: float = DROPOUT
    ):
        super().__init__()
        if not isinstance(config, PhiNetConfig):
            raise TypeError(
                f"PhiNet takes a PhiNetConfig, got {type(config).__name__}; "
                "use PhiNet.from_config_dict for a mapping"
            )
        self.config = config
        widths = phinet_widths(
            config.alpha,
            config.beta,
            config.t0,
            config.num_layers,
            divisor=config.divisor,
            downsampling_layers=config.downsampling_layers,
            squeeze_excite=config.squeeze_excite,
            residuals=config.residuals,
        )
        self._layers = nn.ModuleList(
            [
                nn.ZeroPad2d(stem_padding(config.resolution)),
                Stem(config.in_channels, int(widths.stem_channels), config.h_swish, bn_momentum),
                *(
                    PhiNetBlock(spec, config.h_swish, bn_momentum, dropout)
                    for spec in widths.blocks
                ),
            ]
        )
        if config.include_top:
            self.classifier = nn.Sequential(
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(int(widths.last_channels), config.num_classes),
            )

    @classmethod
    def from_config_dict(cls, data: Mapping[str, Any], **kwargs: Any) -> PhiNet:
        """From a config mapping or a recommendation / report JSON with a "config" key."""
        return cls(PhiNetConfig.from_dict(data), **kwargs)

    pad = property(lambda self: self._layers[0])
    stem = property(lambda self: self._layers[1])

    @property
    def blocks(self) -> list[PhiNetBlock]:
        """Block 0 (no expansion) then blocks 1..max(N, 3)."""
        return list(self._layers[2:])

    def block_names(self) -> list[str]:
        """Names of the outputs :meth:`forward_blocks` returns, in its order."""
        return ["stem"] + [f"block {block.index}" for block in self.blocks]

    def forward_blocks(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Output of the stem (index 0) and of every block: index i + 1 is block i's output
        (block 0 has no expansion; blocks 1..max(N, 3) follow). The classifier is not run."""
        x = self.stem(self.pad(x))
        outputs = [x]
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits with ``include_top``, else the last block's feature map."""
        for layer in self._layers:
            x = layer(x)
        if self.config.include_top:
            x = self.classifier(x)
        return x
