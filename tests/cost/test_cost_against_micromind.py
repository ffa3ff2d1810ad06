"""The cost model against micromind 0.2.1's real PhiNet, loaded by file.

Parameters are counted from the module, MACs from forward hooks, and the int8 graph is
rebuilt from the ops the real forward pass runs (shapes as observed), with the conventions
of advisor.cost.deployment; its peak live set comes from a plain tensor-lifetime analysis.
"""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")

from micromind_reference import load_phinet_module, reference_phinet  # noqa: E402

from advisor.config import PhiNetConfig  # noqa: E402
from advisor.cost import deployment, estimate  # noqa: E402

MAX_PARAMS = 150_000  # building and running wider reference models dominates test time


def random_configs(count: int, seed: int) -> list[PhiNetConfig]:
    """Random configs over and beyond the study's grid (alpha 0.15..1.5, beta 0.75..1.35,
    t0 4..6, N 4..9); a draw over MAX_PARAMS (by the cost model) is drawn again, which only
    keeps the test fast: widths still reach alpha 1.5, t0 8 and N 12."""
    rng = random.Random(seed)
    configs: list[PhiNetConfig] = []
    while len(configs) < count:
        large = len(configs) % 50 == 7  # a few at deployment resolutions, kept narrow
        config = PhiNetConfig(
            alpha=(
                rng.choice([0.1, 0.15, 0.2])
                if large
                else rng.choice(
                    [
                        0.1,
                        0.12,
                        0.15,
                        0.2,
                        0.25,
                        0.3,
                        0.35,
                        0.5,
                        0.75,
                        0.9,
                        1.0,
                        1.5,
                        round(rng.uniform(0.1, 1.5), 3),
                        rng.uniform(0.1, 1.2),
                    ]
                )
            ),
            beta=rng.choice([0.5, 0.75, 1, 1.05, 1.35, 2.0, rng.uniform(0.2, 3.0)]),
            t0=rng.choice([2, 3, 4, 5, 6, 1.5, rng.uniform(0.5, 8.0)]),
            num_layers=(rng.randint(1, 8) if large else rng.randint(1, 12)),
            resolution=(rng.choice([160, 161, 224]) if large else rng.randint(8, 64)),
            in_channels=rng.choice([1, 3, 3, 4]),
            num_classes=rng.choice([2, 10, 100]),
            divisor=rng.choice([1, 1, 8]),
            downsampling_layers=rng.choice([(5, 7), (5, 7), (4, 6, 9), (), (2, 8)]),
            squeeze_excite=rng.random() < 0.8,
            h_swish=rng.random() < 0.8,
            residuals=rng.random() < 0.85,
            include_top=rng.random() < 0.6,
        )
        if estimate(config).params <= MAX_PARAMS:
            configs.append(config)
    return configs


class _Tensor:
    def __init__(self, shape):
        self.shape = tuple(int(v) for v in shape)
        self.bytes = self.shape[0] * self.shape[1] * self.shape[2] * deployment.ACTIVATION_BYTES


def _hwc(shape) -> tuple[int, int, int]:
    """NCHW (or N, C) of batch 1 -> (H, W, C)."""
    shape = tuple(shape)
    return (shape[2], shape[3], shape[1]) if len(shape) == 4 else (1, 1, shape[1])


class Int8Graph:
    """The TFLite ops micromind's forward pass maps to, from what the hooks observe."""

    def __init__(self, relu_max_type):
        self.relu_max_type = relu_max_type
        self.ops: list[tuple[str, list[_Tensor], _Tensor]] = []
        self.current: _Tensor | None = None
        self.model_input: _Tensor | None = None
        self._residual_inputs: list[_Tensor] = []
        self._se_inputs: list[_Tensor] = []

    def emit(self, op: str, inputs: list[_Tensor], shape) -> None:
        self.current = _Tensor(shape)
        self.ops.append((op, inputs, self.current))

    def attach(self, model, se_type, block_type) -> None:
        for module in model.modules():
            if isinstance(module, block_type):
                module.register_forward_pre_hook(self._block_start)
                module.register_forward_hook(self._block_end)
            elif isinstance(module, se_type):
                module.register_forward_pre_hook(self._se_start)
                module.register_forward_hook(self._se_end)
            elif not list(module.children()) or isinstance(module, torch.nn.Flatten):
                module.register_forward_hook(self._leaf)

    def _block_start(self, module, args):
        if module.skip_conn:
            self._residual_inputs.append(self.current)

    def _block_end(self, module, args, output):
        if module.skip_conn:
            self.emit("ADD", [self.current, self._residual_inputs.pop()], _hwc(output.shape))

    def _se_start(self, module, args):
        self._se_inputs.append(self.current)
        if args[0].shape[2] * args[0].shape[3] > 1 or not deployment.SE_MEAN_DROPPED_AT_1X1:
            self.emit("MEAN", [self.current], (1, 1, args[0].shape[1]))

    def _se_end(self, module, args, output):
        self.emit("LOGISTIC", [self.current], self.current.shape)
        self.emit("MUL", [self._se_inputs.pop(), self.current], _hwc(output.shape))

    def _leaf(self, module, args, output):
        nn = torch.nn
        if self.current is None:
            self.model_input = self.current = _Tensor(_hwc(args[0].shape))
        if isinstance(module, nn.ZeroPad2d):
            if deployment.STEM_PAD_IS_SEPARATE_OP:
                self.emit("PAD", [self.current], _hwc(output.shape))
        elif isinstance(module, nn.Conv2d):
            h, w, c = self.current.shape
            if (
                module.stride[0] == 2
                and module.padding[0] > 0
                and h % 2 == 0
                and deployment.PAD_OP_FOR_EVEN_STRIDE2_INPUT
            ):
                self.emit(
                    "PAD", [self.current], (h + 2 * module.padding[0], w + 2 * module.padding[1], c)
                )
            depthwise = (module.groups == module.in_channels and module.groups > 1) or (
                module.groups == 1 and module.in_channels == 1 and module.kernel_size[0] > 1
            )
            self.emit(
                "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [self.current], _hwc(output.shape)
            )
        elif isinstance(module, nn.Hardswish):
            if deployment.HARD_SWISH_IS_SEPARATE_OP:
                self.emit("HARD_SWISH", [self.current], _hwc(output.shape))
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            self.emit("MEAN", [self.current], _hwc(output.shape))
        elif isinstance(module, nn.Linear):
            self.emit("FULLY_CONNECTED", [self.current], _hwc(output.shape))
        else:  # BatchNorm folds into the conv, ReLU6 fuses, dropout / flatten vanish
            assert isinstance(
                module, (nn.BatchNorm2d, self.relu_max_type, nn.Dropout2d, nn.Flatten, nn.Identity)
            ), module  # Identity: FloatFunctional

    def live_bytes(self) -> list[int]:
        """Bytes of every tensor whose lifetime (producer .. last consumer) spans each op."""
        first = {id(self.model_input): 0}
        last = {}
        tensors = {id(self.model_input): self.model_input}
        for index, (_, inputs, output) in enumerate(self.ops):
            first[id(output)] = index
            tensors[id(output)] = output
            for tensor in inputs:
                last[id(tensor)] = index
        last[id(self.current)] = len(self.ops) - 1  # the model output
        return [
            sum(t.bytes for key, t in tensors.items() if first[key] <= i <= last[key])
            for i in range(len(self.ops))
        ]


def measure(config: PhiNetConfig) -> dict:
    """Parameters, hook-counted MACs and the int8 graph of micromind's PhiNet."""
    module = load_phinet_module()
    model = reference_phinet(config).eval()
    graph = Int8Graph(module.ReLUMax)
    graph.attach(model, module.SEBlock, module.PhiNetConvBlock)
    macs = []

    def count(layer, args, output):
        if isinstance(layer, torch.nn.Conv2d):
            macs.append(output.numel() * layer.weight[0].numel())
        elif isinstance(layer, torch.nn.BatchNorm2d):
            macs.append(2 * layer.num_features)
        elif isinstance(layer, torch.nn.Linear):
            macs.append(layer.in_features * layer.out_features + layer.out_features)

    for layer in model.modules():
        layer.register_forward_hook(count)
    with torch.no_grad():
        model(torch.zeros(1, config.in_channels, config.resolution, config.resolution))
    batchnorm_channels = sum(
        m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
    )
    params = sum(p.numel() for p in model.parameters())
    return {
        "params": params,
        "params_folded": params - batchnorm_channels,  # BN (scale, shift) -> one conv bias
        "macs": sum(macs),
        "graph": graph,
    }


CONFIGS = random_configs(200, seed=20261128)


def test_configs_cover_the_hard_cases():
    assert len(CONFIGS) >= 200
    assert min(c.alpha for c in CONFIGS) == 0.1
    assert {c.divisor for c in CONFIGS} == {1, 8}
    assert {c.num_layers for c in CONFIGS} == set(range(1, 13))
    assert any(c.resolution % 2 for c in CONFIGS) and any(c.resolution >= 160 for c in CONFIGS)
    residual_block0 = [
        c
        for c in CONFIGS
        if estimate(c).layers and any(layer.name == "block0.add" for layer in estimate(c).layers)
    ]
    assert residual_block0, "no config where block 0 gets a residual (divisor 8, small alpha)"


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: f"a{c.alpha:.3g}-N{c.num_layers}-R{c.resolution}-d{c.divisor}"
)
def test_cost_model_matches_micromind(config):
    expected = measure(config)
    report = estimate(config)
    assert report.params == expected["params"]
    assert report.params_folded == expected["params_folded"]
    assert report.macs == expected["macs"]

    graph = expected["graph"]
    assert [(layer.op, layer.output_shape) for layer in report.layers] == [
        (op, output.shape) for op, _, output in graph.ops
    ]
    assert [layer.live_bytes for layer in report.layers] == graph.live_bytes()
    assert report.peak_ram_bytes == max(graph.live_bytes())
    largest_tensor = max([graph.model_input.bytes] + [out.bytes for _, _, out in graph.ops])
    assert report.peak_ram_bytes >= largest_tensor
    assert sum(layer.params for layer in report.layers) == report.params
    assert sum(layer.macs for layer in report.layers) == report.macs


def test_macs_are_torchinfo_mult_adds():
    """The hook convention above is torchinfo's total_mult_adds (micromind's get_MAC)."""
    torchinfo = pytest.importorskip("torchinfo")
    for config in sorted(CONFIGS, key=lambda c: estimate(c).macs)[::50]:
        model = reference_phinet(config)
        summary = torchinfo.summary(
            model,
            input_data=torch.zeros(1, config.in_channels, config.resolution, config.resolution),
            verbose=0,
        )
        report = estimate(config)
        assert (report.params, report.macs) == (summary.total_params, summary.total_mult_adds)
