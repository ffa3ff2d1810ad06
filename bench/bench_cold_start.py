"""Cold-start wall time of the light commands, against `python -c pass` measured in the
same run, and `python -X importtime` evidence that they never import the heavy stack.

    python bench/bench_cold_start.py [--runs 9] [--strict]

Goals: `advisor boards` and `advisor cost` < 0.3 s wall (they only read TOML files or evaluate
a closed-form model), `advisor recommend` < 0.5 s (it searches thousands of configurations). Exits 1 if a heavy package is imported (or, with
--strict, if a goal is missed). Commands whose module has not landed yet are skipped with
a note.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = (
    "torch",
    "tensorflow",
    "keras",
    "ray",
    "matplotlib",
    "onnx",
    "onnxruntime",
    "tflite_micro",
    "jax",
)
COST_ARGS = [
    "cost",
    "--alpha",
    "0.5",
    "--beta",
    "1",
    "--t0",
    "6",
    "--layers",
    "7",
    "--resolution",
    "160",
    "--classes",
    "10",
]
LIGHT_COMMANDS = [  # (module, arguments, goal in seconds)
    ("advisor.cli.boards", ["boards"], 0.3),
    ("advisor.cli.boards", ["boards", "--json"], 0.3),
    ("advisor.cli.cost", COST_ARGS, 0.3),
    ("advisor.cli.cost", [*COST_ARGS, "--json"], 0.3),
    ("advisor.cli.recommend", ["recommend", "--board", "stm32h7"], 0.5),
]


def advisor_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m advisor`."""
    script = Path(sys.executable).with_name("advisor")
    if script.exists():
        return [str(script)]
    found = shutil.which("advisor")
    return [found] if found else [sys.executable, "-m", "advisor"]


def wall_times(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            last_line = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"exit {result.returncode}: {last_line}")
    return times


def imported_modules(args: list[str]) -> list[tuple[int, str, bool]]:
    """(cumulative microseconds, module, imported at top level) for every module that
    `advisor ARGS` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "advisor", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    modules = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, raw_name = line.split(":", 1)[1].split("|")
        top_level = raw_name[1:2] != " "  # nested imports are indented by importtime
        modules.append((int(cumulative), raw_name.strip(), top_level))
    return modules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command (median reported)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    options = parser.parse_args()

    advisor = advisor_command()
    print(
        f"python {sys.version.split()[0]}, {options.runs} runs each, entry point: {' '.join(advisor)}"
    )
    baseline = statistics.median(wall_times([sys.executable, "-c", "pass"], options.runs))
    print(
        f"{'command':58} {'median s':>9} {'min s':>7} {'x baseline':>10} {'+ s':>6}  {'goal s':>6}"
    )
    print(f"{'python -c pass (baseline)':58} {baseline:9.3f}")

    failures, misses, ran = [], [], []
    for module, args, goal in LIGHT_COMMANDS:
        label = "advisor " + " ".join(args).replace(" ".join(COST_ARGS[1:]), "...")
        if importlib.util.find_spec(module) is None:
            print(f"{label:58} skipped: {module} has not landed yet")
            continue
        try:
            times = wall_times([*advisor, *args], options.runs)
        except RuntimeError as err:
            print(f"{label:58} FAILED: {err}")
            failures.append(label)
            continue
        ran.append(args)
        median = statistics.median(times)
        verdict = "ok" if median < goal else "MISSED"
        if median >= goal:
            misses.append(label)
        print(
            f"{label:58} {median:9.3f} {min(times):7.3f} {median / baseline:10.1f} "
            f"{median - baseline:6.3f}  {goal:6.1f} {verdict}"
        )

    print("\nimport evidence (python -X importtime -m advisor ...):")
    for args in ran:
        modules = imported_modules(args)
        heavy = sorted({name.split(".")[0] for _, name, _ in modules} & set(HEAVY))
        print(
            f"  advisor {' '.join(args)}: {len(modules)} modules imported; "
            f"heavy ({', '.join(HEAVY)}): {', '.join(heavy) or 'none'}"
        )
        top_level = [(us, name) for us, name, top in modules if top]
        for us, name in sorted(top_level, reverse=True)[:8]:
            print(f"    {us / 1000:7.1f} ms  {name}")
        if heavy:
            failures.append(f"advisor {' '.join(args)} imports {', '.join(heavy)}")

    for failure in failures:
        print(f"FAIL: {failure}")
    if misses:
        print(f"goal missed by: {', '.join(misses)} (shared CPUs add noise; rerun before judging)")
    return 1 if failures or (options.strict and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
