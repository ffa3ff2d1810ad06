import torch
import torch.nn.functional as F

from advisor.training.augment import augment, channel_stats, to_input

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def images(n=6, size=8):
    return torch.randint(
        0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )


def test_to_input_normalises_per_channel_and_resizes():
    scale, shift = channel_stats(MEAN, STD, "cpu")
    batch = images()
    x = to_input(batch, scale, shift, 8)
    expected = (batch.float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(
        1, 3, 1, 1
    )
    torch.testing.assert_close(x, expected)
    big = to_input(batch, scale, shift, 40)
    torch.testing.assert_close(big, F.interpolate(expected, size=(40, 40), mode="bilinear"))


def test_flips_alone_mirror_some_images_and_keep_the_others():
    scale, shift = channel_stats(MEAN, STD, "cpu")
    batch = images(n=32)
    plain = to_input(batch, scale, shift, 8)
    out = augment(
        batch,
        scale,
        shift,
        8,
        generator=torch.Generator().manual_seed(1),
        hflip=True,
        rotation_degrees=0.0,
        zoom=0.0,
    )
    same = [torch.allclose(o, p, atol=1e-5) for o, p in zip(out, plain)]
    mirrored = [torch.allclose(o, p.flip(-1), atol=1e-5) for o, p in zip(out, plain)]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 4 < sum(mirrored) < 28


def test_rotation_and_zoom_resample_to_the_resolution_and_follow_the_generator():
    scale, shift = channel_stats(MEAN, STD, "cpu")
    batch = images()

    def draw(seed):
        return augment(
            batch,
            scale,
            shift,
            24,
            generator=torch.Generator().manual_seed(seed),
            hflip=True,
            rotation_degrees=15.0,
            zoom=0.2,
        )

    first, again, other = draw(3), draw(3), draw(4)
    assert first.shape == (6, 3, 24, 24)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not torch.allclose(first, to_input(batch, scale, shift, 24), atol=1e-3)
