"""Reading the text files a user hands the tool (board profiles, results, priors, configs,
grids, recipes): every one is UTF-8, and a file that is not gets an error naming it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError


def read_text(path: str | os.PathLike, what: str) -> str:
    """The text of `path`, a `what` ("board file", "results file", ...), decoded as UTF-8."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AdvisorError(f"{what} {path} does not exist: check the path") from None
    except IsADirectoryError:
        raise AdvisorError(f"{what} {path} is a folder: give the file") from None
    except OSError as err:
        raise AdvisorError(f"cannot read {what} {path}: {err.strerror}") from None
    return decode(data, path, what)


def decode(data: bytes, path: str | os.PathLike, what: str) -> str:
    """`data` read from `path` as UTF-8 text (a leading byte-order mark is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise AdvisorError(
            f"{what} {path} is not UTF-8 text (byte {data[err.start]:#04x} on line {line}): "
            "save it as UTF-8"
        ) from None


def read_json(path: str | os.PathLike, what: str) -> Any:
    """The JSON value in `path` (UTF-8); errors name the file, the line and the fix."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise AdvisorError(
            f"{what} {path} is not valid JSON ({err.msg}, line {err.lineno}): fix or replace it"
        ) from None


def read_json_object(path: str | os.PathLike, what: str) -> dict[str, Any]:
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise AdvisorError(f"{what} {path} must hold a JSON object, not {type(data).__name__}")
    return data
