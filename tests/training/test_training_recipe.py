import itertools
import math

import pytest
import torch
from torch import nn

from advisor.errors import AdvisorError
from advisor.training.optim import build_optimizer, learning_rate, parameter_groups
from advisor.training.recipe import Recipe


def test_the_default_recipe_is_the_study():
    recipe = Recipe.study()
    assert recipe == Recipe()
    assert (
        recipe.optimizer,
        recipe.lr,
        recipe.warmup_epochs,
        recipe.epochs - recipe.warmup_epochs,
        recipe.resolution,
        recipe.split,
    ) == ("lamb", 0.01, 10, 100, 160, "70/15/15")
    assert recipe.hflip and recipe.rotation_degrees > 0 and recipe.zoom > 0


def test_the_study_schedule_scales_its_warm_up_with_the_epochs():
    assert (Recipe.study(110).warmup_epochs, Recipe.study(220).warmup_epochs) == (10, 20)
    assert [Recipe.study(epochs).warmup_epochs for epochs in (1, 3, 5, 6, 30)] == [0, 0, 0, 1, 3]
    assert Recipe.study(3, warmup_epochs=2).warmup_epochs == 2
    assert Recipe.study(30, resolution=32).resolution == 32


def test_a_recipe_round_trips_through_a_dict_and_rejects_bad_values():
    quick = Recipe.quick(seed=4)
    assert Recipe.from_dict(quick.to_dict()) == quick
    with pytest.raises(AdvisorError, match="unknown recipe keys \\['epoch'\\]"):
        Recipe.from_dict({"epoch": 3})
    with pytest.raises(
        AdvisorError, match="warmup_epochs \\(10\\) must be smaller than epochs \\(5\\)"
    ):
        Recipe(epochs=5)
    with pytest.raises(AdvisorError, match="optimizer"):
        Recipe(optimizer="adam")
    with pytest.raises(AdvisorError, match="split"):
        Recipe(split="80/20")


def test_the_schedule_warms_up_linearly_then_follows_a_cosine():
    total, warmup, lr = 110, 10, 0.01
    rates = [learning_rate(step, total, warmup, lr, 0.0) for step in range(total)]
    assert rates[:10] == pytest.approx([lr * (i + 1) / 10 for i in range(10)])
    assert rates[10] == pytest.approx(lr)
    assert rates[60] == pytest.approx(lr * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert all(a >= b for a, b in itertools.pairwise(rates[10:]))
    assert learning_rate(total, total, warmup, lr, 1e-4) == pytest.approx(1e-4)


def test_weight_decay_skips_biases_and_batchnorm():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    decay, no_decay = parameter_groups(model, 0.02)
    assert [p.shape for p in decay["params"]] == [(4, 3, 3, 3), (2, 4)]
    assert decay["weight_decay"] == 0.02 and no_decay["weight_decay"] == 0.0
    assert len(no_decay["params"]) == 4  # conv bias, BN weight and bias, linear bias


def test_lamb_follows_the_papers_layerwise_trust_ratio_update():
    """You et al. 2019 (LAMB), without bias correction as torch-optimizer implements it:
    r = m / (sqrt(v) + eps) + wd * w;  w <- w - lr * min(||w||, 10) / ||r|| * r."""
    torch.manual_seed(0)
    layer = nn.Linear(5, 3, bias=False)
    recipe = Recipe(optimizer="lamb", lr=0.05, weight_decay=0.1)
    optimizer = build_optimizer(layer, recipe)
    w = layer.weight.detach().clone()
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    for _ in range(3):
        gradient = torch.randn_like(w)
        layer.weight.grad = gradient.clone()
        optimizer.step()
        m = 0.9 * m + 0.1 * gradient
        v = 0.999 * v + 0.001 * gradient**2
        r = m / (v.sqrt() + 1e-6) + 0.1 * w
        w = w - 0.05 * w.norm().clamp(max=10) / r.norm() * r
        torch.testing.assert_close(layer.weight.detach(), w)
