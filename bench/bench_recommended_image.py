"""Does the recommended PhiNet's linked firmware image fit the board? The solver's
recommendation for each board and resolution, with random weights (same int8 size as trained
ones), converted to int8, built for the board's core and kernels and run once under QEMU; the
image + the HAL reserve against the board's flash, beside what the solver planned (cost-model
flash + measured runtime + HAL reserve). With --assumed the solver plans with the profile's
assumed reserve instead (flash - reserved_flash_bytes), as it did before the runtime was
measured.

    python bench/bench_recommended_image.py [--runs stm32f746:32,stm32h7:32] [--assumed]

Skips with the reason when the tree, compiler or QEMU is missing.
"""

from __future__ import annotations

import argparse

import numpy as np

from advisor.boards import load_board
from advisor.export.convert import to_tflite
from advisor.export.cost_calibration import random_phinet
from advisor.firmware import emulate, kernels_for_board
from advisor.firmware.cores import core_for_board
from advisor.solver import recommend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="stm32f746:32,stm32h7:32")
    parser.add_argument("--assumed", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    for run in args.runs.split(","):
        board_id, resolution = run.split(":")
        board = load_board(board_id)
        flash = board.flash_bytes - board.reserved_flash_bytes if args.assumed else None
        result = recommend(board, resolution=int(resolution), flash=flash)
        config = result.config
        rng = np.random.default_rng(0)
        shape = (8, config.in_channels, config.resolution, config.resolution)
        calibration = rng.normal(0, 1, shape).astype(np.float32)
        model = to_tflite(config, random_phinet(config, 0).state_dict(), calibration)
        report = emulate(
            model,
            core=core_for_board(board),
            kernels=kernels_for_board(board),
            board=board,
            compare_with_host=False,
            jobs=args.jobs,
        )
        if report.status != "ran":
            print(f"skipped: {report.reason}; install: {report.install}")
            return
        reserve = board.flash_reserve()
        planned = result.costs.flash_bytes + (reserve.runtime_bytes or 0) + (reserve.hal_bytes or 0)
        fit = report.board
        print(
            f"{board_id} {resolution}px ({'assumed reserve' if args.assumed else 'measured runtime'}):"
            f" alpha={config.alpha:g} beta={config.beta:g} t0={config.t0:g} "
            f"N={config.num_layers}; cost-model flash {result.costs.flash_bytes:,} B, .tflite "
            f"{len(model):,} B; planned model + runtime + HAL {planned:,} B; linked image "
            f"{report.sizes.flash_bytes:,} B + HAL {fit.hal_flash_reserve_bytes:,} B: "
            f"{'fits' if fit.fits else 'DOES NOT FIT'}, flash margin {fit.flash_margin_bytes:,} B "
            f"of {board.flash_bytes:,} B",
            flush=True,
        )


if __name__ == "__main__":
    main()
