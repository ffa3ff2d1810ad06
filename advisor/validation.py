"""The one numeric validator: every number that enters the tool (a config field, a board
file's value, a budget, a command-line option) is checked here, so that the same value is
accepted or refused, with the same kind of message, wherever it comes from.

- Integers: Python ints and numpy integers; a float or a text only when it holds a whole
  number exactly ("2e7" is 20,000,000; "2.5" and "0.5" are refused, never truncated).
- Reals: ints, floats and numpy numbers that are finite (NaN and infinities are refused).
- Booleans are never numbers.
- Every refusal names the field and the fix, and is an :class:`AdvisorError` (exit 2).

The bounds that hold everywhere live here, each with its reason.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from advisor.errors import AdvisorError

# The cost model counts in int64 (numpy): no count may reach it.
INT64_MAX = 2**63 - 1
# Side of a square input image. 8192 px: an int8 8192x8192x3 input alone is 192 MiB and the
# smallest PhiNet's tensor arena at that side is tens of GiB, beyond every board (the largest
# profile, a Raspberry Pi 3, has 1 GiB); far above it the cost model's int64 counts overflow.
MAX_RESOLUTION = 8192
# Output classes: 100,000 is above every image classification dataset (ImageNet-21k has
# 21,841); the classifier alone then holds 100,000 x its input width parameters.
MAX_CLASSES = 100_000
# Input channels: 1024 covers RGB, grayscale, depth and hyperspectral cubes (a few hundred
# bands).
MAX_CHANNELS = 1024
# PhiNet depth: the study and the published models use 4 to 9 blocks; 64 leaves room to
# explore while keeping a typo (N=7000) from building a network of thousands of blocks.
MAX_LAYERS = 64

_INTEGER_TEXT = re.compile(r"^[+-]?\d+(?:_\d+)*$")


def _where(name: str) -> str:
    return name if not name.startswith("-") else f"option {name}"


def _fail(name: str, problem: str, fix: str | None) -> AdvisorError:
    return AdvisorError(f"{_where(name)} {problem}" + (f": {fix}" if fix else ""))


def _check_range(value, name: str, low, high, low_open: bool, fix: str | None, kind: str):
    if low is not None and (value <= low if low_open else value < low):
        if low == 0 and low_open:
            raise _fail(name, f"must be a positive {kind}, got {value!r}", fix)
        relation = ">" if low_open else ">="
        raise _fail(name, f"must be {_with_article(kind)} {relation} {low:,}, got {value!r}", fix)
    if high is not None and value > high:
        raise _fail(name, f"must be {_with_article(kind)} <= {high:,}, got {value!r}", fix)
    return value


def _with_article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def integer(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = INT64_MAX,
    fix: str | None = None,
) -> int:
    """`value` as a Python int in [low, high]: an int, a numpy integer, or a float / text that
    is exactly a whole number. Anything else raises an AdvisorError naming `name` and `fix`."""
    if isinstance(value, (bool, complex, bytes)):
        raise _fail(name, f"must be a whole number, got {value!r}", fix)
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise _fail(name, f"must be a finite whole number, got {value!r}", fix)
        if not float(value).is_integer():
            raise _fail(name, f"must be a whole number, got {value!r} (no fractions)", fix)
        number = int(float(value))
    elif isinstance(value, str):
        number = _integer_from_text(value, name, fix)
    else:
        raise _fail(name, f"must be a whole number, got {type(value).__name__} {value!r}", fix)
    return _check_range(number, name, low, high, False, fix, "integer")


def _integer_from_text(text: str, name: str, fix: str | None) -> int:
    cleaned = text.strip()
    if _INTEGER_TEXT.match(cleaned):
        return int(cleaned.replace("_", ""))
    try:
        exact = Decimal(cleaned.replace("_", ""))
    except InvalidOperation:
        raise _fail(name, f"is not a number: {text!r}", fix) from None
    if not exact.is_finite():
        raise _fail(name, f"must be a finite whole number, got {text!r}", fix)
    if exact.adjusted() > 30:  # beyond any bound here; keeps 1e400 from becoming an int
        raise _fail(name, f"is far too large: {text!r}", fix)
    if exact != exact.to_integral_value():
        raise _fail(name, f"must be a whole number, got {text!r} (no fractions)", fix)
    return int(exact)


def real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    fix: str | None = None,
) -> float:
    """`value` as a finite float in [low, high] ((low, high] with `low_open`): an int, a
    float, a numpy number or a text holding one."""
    if isinstance(value, (bool, complex, bytes)):
        raise _fail(name, f"must be a number, got {value!r}", fix)
    if isinstance(value, str):
        try:
            number = float(value.strip().replace("_", ""))
        except ValueError:
            raise _fail(name, f"is not a number: {value!r}", fix) from None
    elif isinstance(value, numbers.Real):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float's range
            raise _fail(name, f"is far too large: {value!r}", fix) from None
    else:
        raise _fail(name, f"must be a number, got {type(value).__name__} {value!r}", fix)
    if not math.isfinite(number):
        raise _fail(name, f"must be a finite number, got {value!r}", fix)
    return _check_range(number, name, low, high, low_open, fix, "number")


def positive_real(value: Any, name: str, *, fix: str | None = None, high=None) -> float:
    """A finite number > 0."""
    return real(value, name, low=0, low_open=True, high=high, fix=fix)


class Integer(click.ParamType):
    """A click option type backed by :func:`integer`: whole numbers only ("2e7" is fine,
    "2.5" is refused), within [low, high]; a refusal is a usage error (exit 2)."""

    name = "integer"

    def __init__(self, low: int | None = 1, high: int | None = INT64_MAX, fix: str | None = None):
        self.low, self.high, self.fix = low, high, fix

    def convert(self, value, param, ctx):
        try:
            return integer(value, "value", low=self.low, high=self.high, fix=self.fix)
        except AdvisorError as err:
            self.fail(str(err).removeprefix("value "), param, ctx)


class Real(click.ParamType):
    """A click option type backed by :func:`real`: finite numbers within the bounds."""

    name = "number"

    def __init__(
        self,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        fix: str | None = None,
    ):
        self.low, self.high, self.low_open, self.fix = low, high, low_open, fix

    def convert(self, value, param, ctx):
        try:
            return real(
                value, "value", low=self.low, high=self.high, low_open=self.low_open, fix=self.fix
            )
        except AdvisorError as err:
            self.fail(str(err).removeprefix("value "), param, ctx)


# The option types every command shares.
RESOLUTION = Integer(
    1,
    MAX_RESOLUTION,
    fix=f"give the input side in pixels, 1 to {MAX_RESOLUTION} (e.g. 160, the study's)",
)
CLASSES = Integer(1, MAX_CLASSES, fix=f"give the number of output classes, 1 to {MAX_CLASSES:,}")
CHANNELS = Integer(1, MAX_CHANNELS, fix=f"give the input channels, 1 to {MAX_CHANNELS} (3 = RGB)")
