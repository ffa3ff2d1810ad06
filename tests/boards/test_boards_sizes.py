import pytest

from advisor.boards import format_size, parse_frequency, parse_size
from advisor.errors import AdvisorError


@pytest.mark.parametrize(
    "text, expected",
    [
        ("512KB", 512 * 1024),
        ("512 kB", 512 * 1024),
        ("512KiB", 512 * 1024),
        ("2MiB", 2 * 1024**2),
        ("2MB", 2 * 1024**2),
        ("1.5MB", 1536 * 1024),
        ("31.5KB", 32256),
        ("32256", 32256),
        ("32_256", 32256),
        ("1GiB", 1024**3),
        ("100B", 100),
        (32256, 32256),
        (0, 0),
    ],
)
def test_sizes_parse_with_datasheet_units(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "bad, message",
    [
        ("512XB", "unknown unit 'XB'"),
        ("32,256", "no thousands commas"),
        ("1.3B", "not a whole number"),
        ("", "cannot read"),
        ("KB", "cannot read"),
        (-1, "negative"),
        (True, "not an integer or a string"),
        (1.5, "not an integer or a string"),
    ],
)
def test_bad_sizes_are_rejected_with_the_reason(bad, message):
    with pytest.raises(AdvisorError, match=message):
        parse_size(bad)


def test_frequencies_parse():
    assert parse_frequency("480MHz") == 480_000_000
    assert parse_frequency("1.4 GHz") == 1_400_000_000
    assert parse_frequency(16_000_000) == 16_000_000
    with pytest.raises(AdvisorError, match="unknown unit 'MB'"):
        parse_frequency("480MB")


def test_format_size_is_exact_or_says_one_decimal():
    assert format_size(524288) == "512 KiB"
    assert format_size(32256) == "31.5 KiB"
    assert format_size(512) == "512 B"
    assert format_size(2 * 1024**2) == "2 MiB"
