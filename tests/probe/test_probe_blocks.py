"""Probes on a generated task whose label becomes linearly decodable only at a known block."""

import numpy as np
import pytest
import torch

from advisor.errors import AdvisorError
from advisor.probe.blocks import probe_model
from advisor.probe.curve import curve_shape
from advisor.probe.features import pooled_block_features


class XorNet(torch.nn.Module):
    """Outputs: 0 = the input; 1 = a linear mix of it; 2 = adds the product of channels 0 and 1
    (the label is the sign of that product, so only outputs 2 and 3 decode it linearly);
    3 = output 2 and a random linear combination of its channels."""

    block_names = ("input", "linear mix", "product", "combination")

    def __init__(self):
        super().__init__()
        self.mix = torch.nn.Conv2d(3, 3, 1)
        self.combine = torch.nn.Conv2d(4, 1, 1)
        generator = torch.Generator().manual_seed(0)
        for conv in (self.mix, self.combine):
            conv.weight.data = torch.randn(conv.weight.shape, generator=generator)
            conv.bias.data.zero_()

    def forward_blocks(self, x):
        mixed = self.mix(x)
        product = torch.cat([mixed, x[:, :1] * x[:, 1:2]], dim=1)
        return [x, mixed, product, torch.cat([product, self.combine(product)], dim=1)]


def xor_images(count, seed):
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(count, 3, generator=generator)
    labels = (values[:, 0] * values[:, 1] > 0).long()
    noise = 0.05 * torch.randn(count, 3, 4, 4, generator=generator)
    return values[:, :, None, None] + noise, labels


def test_probe_accuracy_rises_at_the_block_that_makes_the_label_linear():
    train_x, train_y = xor_images(800, seed=1)
    test_x, test_y = xor_images(400, seed=2)
    report = probe_model(XorNet(), train_x, train_y, test_x, test_y, num_classes=2, batch_size=100)

    accuracy = [block.test_accuracy for block in report.blocks]
    loss = report.test_losses
    assert [block.name for block in report.blocks] == list(XorNet.block_names)
    assert [block.channels for block in report.blocks] == [3, 3, 4, 5]
    assert max(accuracy[:2]) < 0.65  # chance is 0.5: no linear read-out before the product
    assert min(accuracy[2:]) > 0.95
    assert min(loss[:2]) > 0.6 and max(loss[2:]) < 0.25
    shape = report.shape
    assert shape.plateau_depth == pytest.approx(2 / 3)
    assert shape.monotone
    data = report.to_dict()
    assert data["monotone_loss"] is True and data["source"].startswith("measured")


def test_features_are_pooled_once_per_block_in_order():
    images, _ = xor_images(10, seed=3)
    features = pooled_block_features(XorNet(), images, batch_size=3)
    assert [tuple(f.shape) for f in features] == [(10, 3), (10, 3), (10, 4), (10, 5)]
    torch.testing.assert_close(features[0], images.mean(dim=(2, 3)))


def test_a_model_without_forward_blocks_is_rejected():
    with pytest.raises(AdvisorError, match="no forward_blocks"):
        pooled_block_features(torch.nn.Linear(3, 2), torch.zeros(2, 3))


def test_curve_shape_of_straight_early_and_rising_curves():
    straight = curve_shape([2.0, 1.5, 1.0, 0.5, 0.0])
    assert straight.monotone and straight.normalized_area == pytest.approx(0.5)
    assert straight.plateau_depth == pytest.approx(1.0)
    early = curve_shape([2.0, 0.1, 0.05, 0.0, 0.0])
    assert early.normalized_area < 0.2 and early.plateau_depth == pytest.approx(0.25)
    rising = curve_shape([2.0, 1.0, 1.2, 0.9])
    assert not rising.monotone and rising.loss_drop == pytest.approx(1.1)
    assert np.isnan(curve_shape([1.0, 1.0]).normalized_area)
