"""Running `advisor` in-process on generated input, and the properties every run must keep:
an exit code of 0, 1, 2 or 3, no traceback, and no file touched outside the run's --out."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import event
from hypothesis import strategies as st

from advisor.cli import main

EXIT_CODES = {0, 1, 2, 3}
# SQLite's readers of a WAL database keep these beside it; they hold no data of their own.
SQLITE_SIDE_FILES = ("-wal", "-shm")


@contextlib.contextmanager
def workspace():
    """A fresh folder per example: inputs/ for generated files, out/ for what commands may
    write, and HOME, XDG folders and the working directory inside it, so that any stray
    write lands where the snapshot sees it."""
    with tempfile.TemporaryDirectory(prefix="advisor-fuzz-") as name:
        root = Path(name)
        for folder in ("inputs", "out", "home", "config", "cache", "cwd"):
            (root / folder).mkdir()
        env = {
            "HOME": root / "home",
            "XDG_CONFIG_HOME": root / "config",
            "XDG_CACHE_HOME": root / "cache",
            "MPLCONFIGDIR": root / "cache" / "matplotlib",
        }
        saved_env = {key: os.environ.get(key) for key in env}
        saved_cwd = os.getcwd()
        os.environ.update({key: str(value) for key, value in env.items()})
        os.chdir(root / "cwd")
        try:
            yield root
        finally:
            os.chdir(saved_cwd)
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under `root` but out/ (and SQLite's side files)."""
    files = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] == "out" or path.is_dir():
            continue
        if path.name.endswith(SQLITE_SIDE_FILES):
            continue
        stat = path.stat()
        files[str(relative)] = (stat.st_size, stat.st_mtime_ns)
    return files


def advisor(root: Path, *args) -> tuple[int, str, str]:
    """Run `advisor args` in-process (click's runner isolates the streams) and check the
    properties; returns (exit code, stdout, stderr)."""
    before = snapshot(root)
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, _):
        try:
            main([str(arg) for arg in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out = stdout.getvalue().decode("utf-8", "replace")
        err = stderr.getvalue().decode("utf-8", "replace")
    assert code in EXIT_CODES, f"exit code {code} for {args}: {err}"
    assert "Traceback" not in out + err, f"traceback for {args}:\n{err}"
    after = snapshot(root)
    assert after == before, f"{args} touched files outside --out: {diff(before, after)}"
    if code == 2:
        assert err.strip(), f"exit 2 without a message for {args}"
    event(f"advisor {args[0]}: exit {code}")  # --hypothesis-show-statistics shows the mix
    return code, out, err


def diff(before: dict, after: dict) -> list[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def finite_json(text: str) -> object:
    """Parse JSON output and check that it holds no NaN or infinity."""

    def refuse(constant):
        raise AssertionError(f"non-finite {constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


# --- strategies ----------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
SPECIAL_NUMBERS = st.sampled_from(
    ["inf", "-inf", "nan", "1e400", "-1e400", "2.5", "0.5", "0", "-0", "-1", "1_000", "2e7",
     "1e-3", "0x10", "32,256", "", " ", "1e30", str(2**63), str(2**64), "9" * 40, "٣"]
)  # fmt: skip
NUMBER_TEXT = st.one_of(
    SPECIAL_NUMBERS,
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    TEXT,
)
UNITS = st.sampled_from(["", "B", "KB", "KiB", "kb", "MB", "MiB", "GB", " KB", "QB", "Hz"])
SIZE_TEXT = st.one_of(NUMBER_TEXT, st.builds(lambda n, u: f"{n}{u}", NUMBER_TEXT, UNITS))
SMALL_POSITIVE = st.floats(0.05, 3.0).map(lambda v: round(v, 3))


def toml_value(value) -> str:
    """A TOML literal of an int, float, bool, str or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(toml_value(item) for item in value) + "]"


TOML_SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    TEXT,
    SIZE_TEXT,
)
TOML_VALUES = st.one_of(TOML_SCALARS, st.lists(TOML_SCALARS, max_size=3))
