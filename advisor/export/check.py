"""`advisor check` as a library: measure any .tflite in TFLite Micro (bytes, smallest arena,
ops with their MACs), estimate its latency per board, optionally build and run its firmware
under QEMU, and judge each board. Needs the tflite-micro package, never torch or TensorFlow."""

from __future__ import annotations

from pathlib import Path

from advisor import provenance
from advisor.errors import AdvisorError


def check_model(
    model_path: str,
    boards: list,
    latency_ms: float | None = None,
    *,
    emulate: bool = False,
    kernels: str | None = None,
    images: int = 8,
    tflm_dir: str | None = None,
) -> dict:
    """Model bytes, minimal TFLM arena, ops with their MACs and estimated latency, and the
    verdict for each board (flash, RAM, latency), as JSON data. `latency_ms` replaces the
    boards' latency budgets. With ``emulate``, the firmware built for each board's core and
    run under QEMU."""
    from advisor.export.firmware import firmware_arena_size
    from advisor.export.fit import judge_model
    from advisor.export.tflite_file import full_int8_problems, read_tflite
    from advisor.export.tflm import minimal_arena

    if latency_ms is not None and not (latency_ms > 0 and latency_ms < float("inf")):
        raise AdvisorError(
            f"--latency-ms must be a positive number of milliseconds, got {latency_ms!r}"
        )
    info = read_tflite(model_path)  # AdvisorError when missing or not a TFLite file
    not_int8 = full_int8_problems(info)
    arena = minimal_arena(Path(model_path).read_bytes())
    firmware_arena = firmware_arena_size(arena.arena_bytes)
    estimates, notes, fits = {}, {}, []
    for board in boards:
        fit, estimate, notes[board.id] = judge_model(
            board, info.size_bytes, arena.arena_bytes, info.operators, latency_ms
        )
        fits.append(fit)
        if estimate is not None:
            estimates[board.id] = estimate
    layers = [
        {
            "index": op.index,
            "op": op.op,
            "class": op.op_class,
            "output_shape": list(op.output_shape),
            "macs": op.macs,
            "live_bytes": op.live_bytes,
            "latency_ms": {
                board_id: round(estimate.ops[op.index].ms, 5)
                for board_id, estimate in estimates.items()
            },
        }
        for op in info.operators
    ]
    emulation = (
        _emulate(model_path, info, arena, boards, kernels, images, tflm_dir) if emulate else []
    )
    return {
        "model": str(model_path),
        "model_bytes": info.size_bytes,
        "arena_bytes": arena.arena_bytes,
        "firmware_arena_bytes": firmware_arena,
        "arena_head_bytes": arena.head_bytes,
        "arena_tail_bytes": arena.tail_bytes,
        "macs": info.macs,
        "ops": list(info.op_types),
        "layers": layers,
        "full_int8": not not_int8,
        "full_int8_problems": not_int8,
        "boards": [{**fit.to_dict(), "latency_note": notes[fit.board_id]} for fit in fits],
        "emulation": emulation,
        "sources": {
            "model_bytes": provenance.CONVERTER + " (size of the .tflite file)",
            "arena_bytes": provenance.TFLITE_MICRO + " (smallest arena it runs in, x86-64 host "
            "build: an upper bound for a 32-bit MCU)",
            "firmware_arena_bytes": provenance.TFLITE_MICRO + " + margin max(1 KiB, 5 %)",
            "ops": provenance.CONVERTER + " (the .tflite's operator list)",
            "macs": "counted from the .tflite's tensor shapes (CONV_2D, DEPTHWISE_CONV_2D, "
            "FULLY_CONNECTED)",
            "live_bytes": "the .tflite's activation tensors alive at each op (first write "
            "to last read)",
            "latency_ms": "per board: latency_source",
            "boards": provenance.BOARD_PROFILE + ": fits when model_bytes <= flash budget "
            "(flash_budget_source: flash - runtime measured in a linked image - HAL reserve, "
            "or the profile's assumed reserve), "
            "arena_bytes <= RAM budget and the estimated latency <= the latency budget",
        },
    }


def _emulate(model_path, info, arena, boards, kernels, images, tflm_dir) -> list[dict]:
    """Render the firmware bundle and run it for each board under QEMU (random int8 inputs,
    seed 0): the outputs are compared with the host interpreter on the same inputs."""
    import tempfile

    from advisor.export.firmware import write_firmware
    from advisor.export.tflite_file import full_int8_problems
    from advisor.firmware import emulate_boards
    from advisor.firmware.emulate import default_inputs

    problems = full_int8_problems(info)
    if problems:
        raise AdvisorError(
            f"--emulate needs a full-int8 model (int8 input and output): {'; '.join(problems)}"
        )
    with tempfile.TemporaryDirectory(prefix="advisor-check-") as folder:
        bundle = write_firmware(
            Path(folder) / "firmware",
            Path(model_path).read_bytes(),
            arena,
            model_name=Path(model_path).name,
        )
        reports = emulate_boards(
            bundle.directory,
            boards,
            default_inputs(tuple(info.inputs[0].shape[1:]), images),
            kernels=kernels,
            host_arena_bytes=arena.arena_bytes,
            tflm_dir=tflm_dir,
        )
    return [report.to_dict() for report in reports]


def shortfalls(result: dict) -> list[str]:
    """Why the model does not fit, one line per board or emulated run that failed (empty when
    everything fits)."""
    return [_shortfall(fit) for fit in result["boards"] if not fit["fits"]] + _emulation_failures(
        result["emulation"]
    )


def _emulation_failures(runs: list[dict]) -> list[str]:
    out = []
    for run in runs:
        if run["status"] != "ran":
            continue
        where = f"{run['core']} {run['kernels']} under QEMU"
        out += [f"{where}: {error}" for error in run["errors"]]
        if run["outputs_vs_host"]["ok"] is False:
            out.append(f"{where}: outputs differ from the host interpreter")
        fit = run["board"]
        if fit and not fit["fits"]:
            over = [
                f"{what} {-fit[key]:,} B over"
                for what, key in (
                    ("linked image + HAL reserve", "flash_margin_bytes"),
                    ("static RAM + stack", "ram_margin_bytes"),
                    ("arena (largest RAM block)", "arena_margin_bytes"),
                )
                if fit[key] < 0
            ]
            out.append(f"{fit['board_id']} on {where}: {', '.join(over)}")
    return out


def _shortfall(fit: dict) -> str:
    over = [
        f"{what} {-fit[key]:,} B over budget"
        for what, key in (("flash", "flash_margin_bytes"), ("RAM", "ram_margin_bytes"))
        if fit[key] < 0
    ]
    if fit["latency_margin_ms"] is not None and fit["latency_margin_ms"] < 0:
        over.append(
            f"estimated latency {fit['latency_ms']:,.1f} ms over the "
            f"{fit['latency_budget_ms']:g} ms budget with {fit['engine']}"
        )
    return f"{fit['id']} ({', '.join(over)})"
