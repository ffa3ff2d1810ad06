"""Cold wall time of `advisor recommend --board ID` (a fresh Python process each run).

Target: < 0.5 s for stm32h7 on a base install, Python start included. The `python -c pass`
baseline is measured in the same run, interleaved, so machine load affects both alike; CPU
seconds (user + sys of the child) are printed too, as they suffer less from a busy machine.
`import advisor.scaling` alone is timed as well: the prior's import is part of every run.

    python bench/bench_recommend.py [--runs 7] [--boards stm32h7,nano33ble,arduino-uno]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.5


def timed(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in ok_codes:
        sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--boards", default="stm32h7,nano33ble,arduino-uno")
    args = parser.parse_args()
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], (0,)),
        "python -c 'import advisor.scaling'": (
            [sys.executable, "-c", "import advisor.scaling"],
            (0,),
        ),
    }
    # the installed console script, as a user runs it; `python -m advisor` without one
    script = Path(sys.executable).with_name("advisor")
    advisor = [str(script)] if script.exists() else [sys.executable, "-m", "advisor"]
    for board in args.boards.split(","):
        # exit 3 (nothing fits) is a valid answer, e.g. for the Arduino UNO
        commands[f"advisor recommend --board {board}"] = (
            [*advisor, "recommend", "--board", board, "--json"],
            (0, 3),
        )
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (command, ok_codes) in commands.items():
            runs[name].append(timed(command, ok_codes))
    base = statistics.median(wall for wall, _ in runs["python -c pass"])
    print(
        f"{args.runs} cold runs each, seconds: median wall, min wall (the least contended "
        f"run), median CPU (user + sys)"
    )
    for name, values in runs.items():
        wall = statistics.median(w for w, _ in values)
        fastest = min(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        verdict = (
            ""
            if not name.endswith("--board stm32h7")
            else f"  target wall < {TARGET_S} s: median {'met' if wall < TARGET_S else 'NOT met'}"
            f", min {'met' if fastest < TARGET_S else 'NOT met'}"
        )
        print(
            f"{name:44s} {wall:6.3f} {fastest:6.3f} {cpu:6.3f}  ({wall / base:4.1f}x baseline)"
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
