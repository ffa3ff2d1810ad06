"""report.json and report.md of ``advisor build``: every figure with its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor import provenance
from advisor.atomic import write_text_atomic


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def _bytes(value: int | None) -> str:
    return "-" if value is None else f"{value:,} B"


def write_reports(out_dir: str | Path, report: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``report`` (``advisor.build.BuildReport.to_dict()``) as JSON and as a Markdown
    summary."""
    out_dir = Path(out_dir)
    json_path = out_dir / "report.json"
    write_text_atomic(json_path, json.dumps(report, indent=2) + "\n")
    md_path = out_dir / "report.md"
    write_text_atomic(md_path, markdown(report))
    return json_path, md_path


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    export = report["export"]
    estimate = report["cost_model"]
    training = report["training"]
    verification = export["verification"]
    board = report["board"]
    fit = export["boards"][0] if export["boards"] else None
    status = "fits" if report["fits"] else "DOES NOT FIT"
    lines = [
        f"# PhiNet for {board['name']} ({board['id']}): {status}",
        "",
        f"alpha {config['alpha']:g}, beta {config['beta']:g}, t0 {config['t0']:g}, "
        f"N {config['num_layers']}, {config['resolution']}x{config['resolution']}x"
        f"{config['in_channels']}, {config['num_classes']} classes "
        f"(source: {report['config_source']}).",
        "",
        "## Memory: estimated vs measured",
        "",
        "| figure | cost model estimate | measured | source of the measurement | board budget |",
        "|---|---|---|---|---|",
        f"| flash (model bytes) | {_bytes(estimate['flash_bytes'])} | "
        f"{_bytes(export['model_bytes']['value'])} | {export['model_bytes']['source']} | "
        f"{_bytes(board['flash_budget_bytes'])} "
        f"({board.get('flash_budget_source', provenance.BOARD_PROFILE)}) |",
        f"| RAM (tensor arena) | {_bytes(estimate['arena_bytes'])} | "
        f"{_bytes(export['arena_bytes']['value'])} | {export['arena_bytes']['source']} | "
        f"{_bytes(board['ram_budget_bytes'])} ({provenance.BOARD_PROFILE}) |",
        f"| arena declared in firmware | | {_bytes(export['firmware_arena_bytes']['value'])} | "
        f"{export['firmware_arena_bytes']['source']} | |",
        "",
        f"Parameters {estimate['params']:,}, MACs {estimate['macs']:,} and int8 activation peak "
        f"{_bytes(estimate['peak_ram_bytes'])} ({provenance.COST_MODEL}).",
    ]
    if fit is not None:
        lines += [
            "",
            f"Flash margin {fit['flash_margin_bytes']:,} B, RAM margin "
            f"{fit['ram_margin_bytes']:,} B ({provenance.BOARD_PROFILE} budgets minus the "
            "measured model bytes and arena).",
        ]
        if fit.get("latency_ms") is not None:
            lines += [
                "",
                f"Latency {fit['latency_ms']:,.1f} ms on {fit['engine']} against a "
                f"{fit['latency_budget_ms']:g} ms budget ({fit['latency_source']}).",
            ]
    lines += _emulation_lines(export.get("emulation", []))
    lines += [
        "",
        "## Accuracy",
        "",
        "| figure | value | source |",
        "|---|---|---|",
        f"| validation top-1 (best epoch {training['best_epoch']}) | "
        f"{_percent(training['best_val_accuracy'])} | {provenance.TRAINING} |",
        f"| test top-1, PyTorch float, all test images | {_percent(training['test_accuracy'])} | "
        f"{provenance.TRAINING} |",
        f"| test top-1, PyTorch float, {verification['samples']} verified images | "
        f"{_percent(verification['float_top1'])} | {provenance.TRAINING} |",
        f"| test top-1, int8 in TFLite Micro, same images | {_percent(verification['int8_top1'])} | "
        f"{provenance.TFLITE_MICRO} |",
        f"| float -> int8 drop | {_drop(verification)} | difference of the two rows above |",
        f"| top-1 agreement TFLM int8 vs PyTorch | "
        f"{_percent(verification['tflm_torch_top1_agreement'])} | {provenance.TFLITE_MICRO} |",
        f"| int8 outputs equal, TFLM vs tf.lite reference kernels "
        f"({verification['reference_samples']} images) | "
        f"{_percent(verification['tflm_tflite_equal_fraction'])} (max diff "
        f"{verification['tflm_tflite_max_abs_diff']} steps) | {provenance.TFLITE_MICRO} |",
        f"| float TFLite vs PyTorch, max abs logit diff | "
        f"{export['float_tflite_max_abs_diff']['value']:.2e} (limit "
        f"{export['float_tflite_max_abs_diff']['limit']:.0e}) | "
        f"{export['float_tflite_max_abs_diff']['source']} |",
        f"| ONNX vs PyTorch, max abs logit diff | {export['onnx_max_abs_diff']['value']:.2e} | "
        f"{export['onnx_max_abs_diff']['source']} |",
        "",
        f"Calibration: {export['calibration_images']} training images. Ops: "
        f"{', '.join(export['ops']['value'])}.",
        *_int8_rows(report.get("int8")),
        "",
        "## Files",
        "",
        *[f"- {name}: `{path}`" for name, path in export["files"].items()],
        "- firmware/main.cc runs the model with TensorFlow Lite Micro; port.h is the board "
        "part (port_generic.cc a starting point, the emulated run links a QEMU port).",
        f"- firmware/model_data.cc and model_config.h: {_compiled(export)}.",
        "",
    ]
    if report.get("warnings"):
        lines += ["## Warnings", "", *[f"- {w}" for w in report["warnings"]], ""]
    return "\n".join(lines)


def _int8_rows(int8: dict | None) -> list[str]:
    """The post-training and quantization-aware rows, when the build recorded them."""
    if not int8:
        return []
    lines = [
        "",
        f"## int8: post-training vs quantization-aware (--qat {int8['qat_mode']}, "
        f"--max-drop {int8['max_drop_points']:g} points)",
        "",
        "| method | float top-1 | int8 top-1 | drop | activation ranges | kept | files |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in int8["rows"]:
        lines.append(
            f"| {row['method']} | {_percent(row['float_top1']['value'])} | "
            f"{_percent(row['int8_top1']['value'])} | {row['drop_points']:.2f} points | "
            f"{row['activation_ranges']} | {'yes' if row['kept'] else 'no'} | `{row['files']}` |"
        )
    rows = int8["rows"]
    lines += [
        "",
        f"float top-1: {rows[0]['float_top1']['source']}; int8 top-1: "
        f"{rows[0]['int8_top1']['source']}. Calibration: {int8['calibration']['draw']}.",
    ]
    return lines


def _emulation_lines(runs: list[dict]) -> list[str]:
    lines: list[str] = []
    for run in runs:
        title = f"## On the target: {run['core']}, {run['kernels']} kernels"
        if run["status"] != "ran":
            install = f" Install: {run['install']}." if run["install"] else ""
            lines += ["", title, "", f"Skipped: {run['reason']}.{install}"]
            continue
        image, compared, per = (
            run["image"],
            run["outputs_vs_host"],
            run["instructions_per_inference"],
        )
        fit = run["board"]
        breakdown = ", ".join(f"{k} {v:,} B" for k, v in image["flash_breakdown"].items())
        lines += [
            "",
            f"{title} (QEMU {run['machine']})",
            "",
            "| figure | value | source |",
            "|---|---|---|",
            f"| arena used, 32-bit target | {_bytes(run['arena_used_bytes']['value'])} | "
            f"{run['arena_used_bytes']['source']} |",
            f"| arena used, x86-64 host | {_bytes(run['host_arena_bytes']['value'])} | "
            f"{run['host_arena_bytes']['source']} |",
            f"| arena, cost model estimate | {_bytes(run['estimated_arena_bytes']['value'])} | "
            f"{provenance.COST_MODEL} |",
            f"| int8 outputs vs host ({compared['images']} images, expected "
            f"{compared['expected']}) | {_percent(compared['equal_rate'])} equal, "
            f"{_percent(compared['within_one_step_rate'])} within one step | "
            f"{compared['source']} |",
            f"| image flash (text + rodata + data) | {_bytes(image['flash_bytes'])} | "
            f"{image['source']}: {breakdown} |",
            f"| static RAM (data + bss, arena included) | {_bytes(image['static_ram_bytes'])} "
            f"| {image['source']} |",
            f"| stack peak | {_bytes(run['stack_used_bytes']['value'])} | "
            f"{run['stack_used_bytes']['source']} |",
            f"| instructions per inference | "
            f"{'-' if per['value'] is None else format(per['value'], ',')} | {per['source']} |",
            *_instructions_by_op(run.get("instructions_per_op", {}).get("value", [])),
        ]
        if fit:
            verdict = "fits" if fit["fits"] else "DOES NOT FIT"
            lines += [
                "",
                f"{fit['board_id']}: {verdict}. Flash margin {fit['flash_margin_bytes']:,} B "
                f"= {fit['flash_bytes']:,} B flash - image - {fit['hal_flash_reserve_bytes']:,} "
                "B HAL + application reserve (the runtime is measured in the image, not "
                f"assumed); RAM margin {fit['ram_margin_bytes']:,} B of "
                f"{fit['ram_total_bytes']:,} B; arena margin {fit['arena_margin_bytes']:,} B "
                f"in the largest block ({provenance.BOARD_PROFILE} sizes).",
            ]
    return lines


def _instructions_by_op(per_op: list[dict]) -> list[str]:
    """One row: the share of the first inference's instructions per op type."""
    totals: dict[str, int] = {}
    for entry in per_op:
        totals[entry["op"]] = totals.get(entry["op"], 0) + entry["instructions"]
    whole = sum(totals.values())
    if not whole:
        return []
    shares = ", ".join(
        f"{op} {100 * n / whole:.0f} %" for op, n in sorted(totals.items(), key=lambda x: -x[1])
    )
    return [f"| instructions by op type | {shares} | TFLM profiler hooks, first inference |"]


def _drop(verification: dict) -> str:
    if verification["float_top1"] is None:
        return "-"
    return f"{100 * (verification['float_top1'] - verification['int8_top1']):.2f} points"


def _compiled(export: dict) -> str:
    compiles = export.get("firmware_compiles")
    if compiles is None:
        return "not compiled"
    if not compiles["value"]:
        return compiles["source"]
    return "compile with " + ", ".join(check["compiler"] for check in compiles["value"])
