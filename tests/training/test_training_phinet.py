"""advisor.training.phinet.PhiNet against micromind 0.2.1's PhiNet loaded by file."""

from __future__ import annotations

import random
import sys

import pytest

torch = pytest.importorskip("torch")

from micromind_reference import load_phinet_module, reference_phinet  # noqa: E402

from advisor.config import PhiNetConfig  # noqa: E402
from advisor.training.phinet import BN_EPS, PhiNet, SqueezeExcite  # noqa: E402

EXPORTABLE = (
    torch.nn.Conv2d,
    torch.nn.BatchNorm2d,
    torch.nn.ZeroPad2d,
    torch.nn.Hardswish,
    torch.nn.ReLU6,
    torch.nn.Sigmoid,
    torch.nn.AdaptiveAvgPool2d,
    torch.nn.Flatten,
    torch.nn.Linear,
    torch.nn.Dropout2d,
)


def random_configs(count: int, seed: int) -> list[tuple[PhiNetConfig, bool]]:
    """(config, compatibility) pairs over the options micromind exposes."""
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        config = PhiNetConfig(
            alpha=rng.choice([0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1.0, rng.uniform(0.1, 1.2)]),
            beta=rng.choice([0.5, 0.75, 1.0, 1.3, rng.uniform(0.3, 2.0)]),
            t0=rng.choice([2, 3, 4, 5, 6, rng.uniform(1.0, 7.0)]),
            num_layers=rng.randint(1, 10),
            resolution=rng.choice([8, 15, 16, 23, 32, 33]),
            in_channels=rng.choice([1, 3]),
            num_classes=rng.choice([2, 10, 17]),
            divisor=rng.choice([1, 1, 8]),
            squeeze_excite=i % 5 != 1,
            h_swish=i % 4 != 2,
            residuals=i % 7 != 3,
            include_top=i % 2 == 0,
        )
        cases.append((config, i % 6 == 5))
    return cases


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Random weights and BatchNorm statistics, so that no layer is the identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                values = torch.randn(tensor.shape, generator=generator) * 0.5
                if name.endswith("running_var"):
                    values = values.abs() + 0.5
                tensor.copy_(values)


@pytest.mark.parametrize("config, compatibility", random_configs(24, seed=2))
def test_micromind_checkpoint_loads_and_outputs_agree(config, compatibility):
    if compatibility:  # micromind's compatibility=True: ReLU6 and no squeeze-excite
        config_ours = PhiNetConfig(
            **{**config.to_dict(), "h_swish": False, "squeeze_excite": False}
        )
    else:
        config_ours = config
    reference = reference_phinet(config, compatibility=compatibility)
    randomize(reference, seed=hash(config) % 1000)
    ours = PhiNet(config_ours)
    assert list(ours.state_dict()) == list(reference.state_dict())
    ours.load_state_dict(reference.state_dict(), strict=True)
    reference.eval()
    ours.eval()
    x = torch.randn(
        3,
        config.in_channels,
        config.resolution,
        config.resolution,
        generator=torch.Generator().manual_seed(0),
    )
    with torch.no_grad():
        expected = reference(x)
        got = ours(x)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-5


def test_forward_blocks_are_stem_then_each_block():
    config = PhiNetConfig(alpha=0.3, beta=1.2, t0=4, num_layers=6, resolution=31, include_top=True)
    reference = reference_phinet(config)
    randomize(reference, seed=5)
    ours = PhiNet(config)
    ours.load_state_dict(reference.state_dict())
    reference.eval()
    ours.eval()
    seen = []
    for layer in list(reference._layers)[1:]:  # skip the ZeroPad2d: index 0 is the stem's output
        layer.register_forward_hook(lambda module, args, output: seen.append(output.clone()))
    x = torch.randn(2, 3, 31, 31)
    with torch.no_grad():
        reference(x)
        outputs = ours.forward_blocks(x)
    assert len(outputs) == len(seen) == 1 + max(config.num_layers, 3) + 1
    assert ours.block_names()[:3] == ["stem", "block 0", "block 1"]
    for got, expected in zip(outputs, seen):
        assert torch.allclose(got, expected, atol=1e-6)


def test_ours_loads_into_micromind_too():
    config = PhiNetConfig(alpha=0.5, beta=0.75, t0=5, num_layers=7, resolution=16, divisor=8)
    ours = PhiNet(config)
    reference = reference_phinet(config)
    reference.load_state_dict(ours.state_dict(), strict=True)


def test_batchnorm_momentum_is_pytorch_convention_and_eps_is_micromind():
    """micromind weights the new batch by 0.999 (Keras' 0.999 carried over); ours by 0.1."""
    config = PhiNetConfig(alpha=0.25, beta=1.0, t0=6, num_layers=4, resolution=16)
    reference = reference_phinet(config)
    ours = PhiNet(config)
    reference_bns = [m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    our_bns = [m for m in ours.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(our_bns) == len(reference_bns)
    assert {m.momentum for m in reference_bns} == {0.999}
    assert {m.momentum for m in our_bns} == {0.1}
    assert {m.eps for m in our_bns} == {m.eps for m in reference_bns} == {BN_EPS}

    # One training step from fresh statistics (mean 0): the stem BatchNorm's running mean
    # becomes momentum * the batch mean of its input.
    ours.train()
    x = torch.randn(8, 3, 16, 16) + 2.0
    with torch.no_grad():
        stem_bn_input = ours.stem.pointwise(ours.stem.depthwise(ours.pad(x)))
        ours(x)
    batch_mean = stem_bn_input.mean(dim=(0, 2, 3))
    assert torch.allclose(ours.stem.bn.running_mean, 0.1 * batch_mean, atol=1e-5)
    assert not torch.allclose(ours.stem.bn.running_mean, 0.999 * batch_mean, atol=1e-3)


def test_builds_from_a_recommendation_json():
    data = {
        "board": "stm32h7",
        "config": {"alpha": 0.35, "beta": 1, "t0": 6, "N": 7, "resolution": 32, "classes": 5},
    }
    model = PhiNet.from_config_dict(data)
    assert model.config.num_classes == 5
    assert model.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 5)


def test_named_walk_covers_every_module_in_order():
    """The export walk (stem, blocks' named parts, classifier) names every parameter once."""
    config = PhiNetConfig(alpha=0.4, beta=1.1, t0=4, num_layers=5, resolution=20)
    model = PhiNet(config)
    walked = [model.stem.depthwise, model.stem.pointwise, model.stem.bn]
    for block in model.blocks:
        assert (block.expand is None) == (block.index == 0)
        parts = [block.expand, block.expand_bn, block.depthwise, block.depthwise_bn]
        if block.se is not None:
            assert isinstance(block.se, SqueezeExcite)
            parts += [block.se.se_conv, block.se.se_conv2]
        parts += [block.project, block.project_bn]
        walked += [part for part in parts if part is not None]
        assert block.depthwise.groups == block.depthwise.in_channels
        assert block.depthwise.stride == (block.stride, block.stride)
    walked.append(model.classifier[2])
    walked_ids = [id(p) for module in walked for p in module.parameters(recurse=False)]
    assert walked_ids == [id(p) for p in model.parameters()]


def test_graph_traces_with_only_exportable_modules():
    """torch.fx traces it (no data-dependent control flow) and every leaf is a plain layer."""
    fx = pytest.importorskip("torch.fx")
    model = PhiNet(PhiNetConfig(alpha=0.25, beta=1, t0=6, num_layers=7, resolution=17)).eval()
    traced = fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    called = [modules[node.target] for node in traced.graph.nodes if node.op == "call_module"]
    assert called and all(isinstance(module, EXPORTABLE) for module in called)
    x = torch.randn(2, 3, 17, 17)
    with torch.no_grad():
        assert torch.equal(traced(x), model(x))


def test_reference_is_loaded_by_file_not_package():
    module = load_phinet_module()
    assert "micromind" not in sys.modules  # its __init__ (which needs torchvision) never ran
    assert module.__file__.endswith("networks/phinet.py")
