"""Cold wall time of `advisor recommend --board ID` (a fresh Python process each run).

Target: < 0.5 s for stm32h7 on a base install, Python start included. The `python -c pass`
baseline is measured in the same run, interleaved, so machine load affects both alike.

    python bench/bench_recommend.py [--runs 7] [--boards stm32h7,nano33ble,arduino-uno]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_S = 0.5


def wall(command: list[str], ok_codes: tuple[int, ...]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in ok_codes:
        sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--boards", default="stm32h7,nano33ble,arduino-uno")
    args = parser.parse_args()
    boards = args.boards.split(",")
    baseline: list[float] = []
    times: dict[str, list[float]] = {board: [] for board in boards}
    for _ in range(args.runs):
        baseline.append(wall([sys.executable, "-c", "pass"], (0,)))
        for board in boards:
            # exit 3 (nothing fits) is a valid answer, e.g. for the Arduino UNO
            times[board].append(wall([sys.executable, "-m", "advisor", "recommend", "--board",
                                      board, "--json"], (0, 3)))
    base = statistics.median(baseline)
    print(f"median of {args.runs} cold runs, wall seconds")
    print(f"{'python -c pass':40s} {base:7.3f}")
    for board, values in times.items():
        median = statistics.median(values)
        verdict = ("" if board != "stm32h7" else
                   f"  target < {TARGET_S} s: {'met' if median < TARGET_S else 'NOT met'}")
        print(f"{'advisor recommend --board ' + board:40s} {median:7.3f}  "
              f"({median / base:4.1f}x baseline, +{median - base:.3f} s){verdict}")


if __name__ == "__main__":
    main()
