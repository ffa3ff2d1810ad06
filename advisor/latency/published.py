"""The published measurements the latency model is calibrated on, as rows of work per op
class (read from the real .tflite files, or built layer by layer for the two MobileNets
XNNPACK publishes) and a measured latency.

Sources (all under the folder `shared/data/latency/`, README there):
- MLPerf Tiny v0.5-v1.3 closed division (`mlperf_tiny_ic_kws_ad.csv`): ResNet-8 (ic),
  DS-CNN (kws), the FC autoencoder (ad); only rows whose core and engine the model knows
  (accelerator rows, the Renesas RXv2 and proprietary engines without a CPU family are
  left out: see `engine_id`).
- raspberrypi/pico-tflmicro `benchmark_results.txt`: person detection on the RP2040,
  per layer, single core (`pico_bench.txt`, paired with the model's ops in order).
- espressif/esp-tflite-micro README: person detection on the ESP32-S3 at 240 MHz, 54 ms
  with ESP-NN, 2300 ms without.
- google/XNNPACK README: int8 MobileNetV1 1.0 46 ms and MobileNetV2 1.0 30 ms on a
  Raspberry Pi 3 B+ (Cortex-A53 at 1.4 GHz, multi-threaded).
- mit-han-lab/tinyengine README as summarized in docs/BOARDS.md: MCUNet (in2, 67.3 M MACs)
  on an STM32H743 at 480 MHz, 0.02 / 0.22 / 0.40 MACs per cycle with TFLM reference,
  TFLM + CMSIS-NN and X-CUBE-AI 7.3 (the only Cortex-M7 figures for the TFLM engines). The
  MCUNet .tflite is not at hand: its op mix is assumed to be MobileNetV2's (both are
  inverted-bottleneck networks), scaled to 67.3 M MACs; the latency is derived from the
  MACs per cycle, so these rows carry the README's rounding.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.latency.ops import CLASSES, op_class

# MLPerf model files, by benchmark.
WORKLOAD_FILES = {
    "ic": "pretrainedResnet_quant.tflite",
    "kws": "kws_ref_model.tflite",
    "ad": "ad01_int8.tflite",
    "pd": "person_detect_pico.tflite",
}
CORES = {  # the CSV's core column -> core family id
    "Cortex-M0+": "cortex-m0plus",
    "Cortex-M4F": "cortex-m4f",
    "Cortex-M7": "cortex-m7",
    "Cortex-M33": "cortex-m33",
    "Cortex-M85 (Helium)": "cortex-m85",
}
# (pattern of the CSV's engine column, engine id); first match wins.
ENGINE_PATTERNS = (
    (r"^TFLM v2\.3\.1 .*reference", "tflm-reference"),
    (r"^TFLM \+ CMSIS\(-NN\)$", "tflm-cmsis-nn"),
    (r"^microTVM \+ CMSIS-NN", "microtvm-cmsis-nn"),
    (r"^microTVM native", "microtvm-native"),
    (r"^ONNC \+ CMSIS-NN", "onnc-cmsis-nn"),
    (r"^X-CUBE-AI ", "x-cube-ai"),
    (r"^Plumerai IE", "plumerai"),
    (r"^Bosch HALE", "bosch-hale"),
)


@dataclass(frozen=True)
class Workload:
    """What a model asks of the engine: work per op class (CLASSES order) and op count."""

    name: str
    work: tuple[int, ...]
    ops: int
    macs: int
    source: str


@dataclass(frozen=True)
class Row:
    """One published measurement."""

    board: str
    core: str
    engine: str
    clock_hz: int
    workload: Workload
    latency_ms: float
    source: str
    model: str  # the model measured (a layer of it counts as that model for leave-one-out)
    note: str = ""
    extra: dict = field(default_factory=dict)


def engine_id(text: str) -> str | None:
    for pattern, engine in ENGINE_PATTERNS:
        if re.search(pattern, text):
            return engine
    return None


def workload_from_ops(name: str, ops: list[tuple[str, str, int]], source: str) -> Workload:
    """`ops`: (op name, class, work) per op."""
    work = [0] * len(CLASSES)
    macs = 0
    for _op, cls, amount in ops:
        work[CLASSES.index(cls)] += int(amount)
    for _op, cls, amount in ops:
        if cls in ("conv_kxk", "conv_1x1", "depthwise", "fully_connected"):
            macs += int(amount)
    return Workload(name, tuple(work), len(ops), macs, source)


def tflite_workload(path: Path, name: str) -> tuple[Workload, list]:
    from advisor.export.tflite_file import read_tflite

    model = read_tflite(path)
    ops = [(op.op, op.op_class, op.work) for op in model.operators]
    return workload_from_ops(name, ops, f"{path.name} (parsed)"), list(model.operators)


def _mobilenet(version: int) -> list[tuple[str, str, int]]:
    """The int8 ops of MobileNetV1 1.0 / V2 1.0 at 224x224x3, 1001 classes, layer by layer
    (Howard et al. 2017 Table 1; Sandler et al. 2018 Table 2)."""
    ops: list[tuple[str, str, int]] = []

    def conv(side, cin, cout, k):
        cls = op_class("CONV_2D", (k, k))
        ops.append(("CONV_2D", cls, side * side * cout * k * k * cin))

    def depthwise(side, channels):
        ops.append(("DEPTHWISE_CONV_2D", "depthwise", side * side * channels * 9))

    side = 112
    conv(side, 3, 32, 3)
    channels = 32
    if version == 1:
        plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
        plan += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
        for out, stride in plan:
            side //= stride
            depthwise(side, channels)
            conv(side, channels, out, 1)
            channels = out
    else:
        for t, out, repeats, first_stride in (
            (1, 16, 1, 1),
            (6, 24, 2, 2),
            (6, 32, 3, 2),
            (6, 64, 4, 2),
            (6, 96, 3, 1),
            (6, 160, 3, 2),
            (6, 320, 1, 1),
        ):
            for i in range(repeats):
                stride = first_stride if i == 0 else 1
                expanded = channels * t
                if t != 1:
                    conv(side, channels, expanded, 1)
                side //= stride
                depthwise(side, expanded)
                conv(side, expanded, out, 1)
                if stride == 1 and channels == out:
                    ops.append(("ADD", "elementwise", side * side * out))
                channels = out
        conv(side, channels, 1280, 1)
        channels = 1280
    ops.append(("AVERAGE_POOL_2D", "pooling", side * side * channels))
    ops.append(("FULLY_CONNECTED", "fully_connected", channels * 1001))
    ops.append(("RESHAPE", "elementwise", 1001))
    ops.append(("SOFTMAX", "elementwise", 1001))
    return ops


def _pico_layers(path: Path) -> list[int]:
    """Single-core per-layer ticks (microseconds) of pico_bench.txt, in op order."""
    text = path.read_text()
    single = text.split("Multi-core")[0]
    return [int(t) for t in re.findall(r"^\w+ took (\d+) ticks", single, flags=re.M)]


def load_rows(data_dir: str | Path) -> list[Row]:
    """Every calibration row from the published data in `data_dir`."""
    data_dir = Path(data_dir)
    csv_path = data_dir / "mlperf_tiny_ic_kws_ad.csv"
    if not csv_path.is_file():
        raise AdvisorError(
            f"{csv_path} not found: pass the folder of the published latency data "
            "(shared/data/latency beside the repository)"
        )
    workloads, layers = {}, {}
    for bench, filename in WORKLOAD_FILES.items():
        workloads[bench], layers[bench] = tflite_workload(data_dir / "models" / filename, bench)
    rows: list[Row] = []
    with csv_path.open(newline="") as file:
        for record in csv.DictReader(file):
            core, engine = CORES.get(record["core"]), engine_id(record["engine"])
            if core is None or engine is None:
                continue
            workload = workloads[record["bench"]]
            if int(record["macs"]) != workload.macs:
                raise AdvisorError(
                    f"{csv_path}: {record['bench']} MACs {record['macs']} differ from the "
                    f"parsed model's {workload.macs}"
                )
            rows.append(
                Row(
                    board=record["board"],
                    core=core,
                    engine=engine,
                    clock_hz=int(float(record["clock_mhz"]) * 1e6),
                    workload=workload,
                    latency_ms=float(record["latency_ms"]),
                    source=f"MLPerf Tiny {record['round']} {record['source']}",
                    model=record["bench"],
                    note=record["engine"],
                )
            )
    ticks = _pico_layers(data_dir / "pico_bench.txt")
    operators = layers["pd"]
    if len(ticks) != len(operators):
        raise AdvisorError(
            f"pico_bench.txt lists {len(ticks)} layers, the person-detection model has "
            f"{len(operators)} ops"
        )
    for op, tick in zip(operators, ticks):
        single = workload_from_ops(f"pd.{op.index}", [(op.op, op.op_class, op.work)], "")
        rows.append(
            Row(
                board="Raspberry Pi Pico / RP2040",
                core="cortex-m0plus",
                engine="tflm-cmsis-nn",
                clock_hz=125_000_000,
                workload=single,
                latency_ms=tick / 1000.0,
                source="raspberrypi/pico-tflmicro benchmark_results.txt (single core, "
                f"layer {op.index} {op.op}; 125 MHz SDK default assumed)",
                model="pd",
            )
        )
    for engine, latency, note in (
        ("tflm-esp-nn", 54.0, "with ESP-NN (model in flash/PSRAM)"),
        ("tflm-reference", 2300.0, "without ESP-NN"),
    ):
        rows.append(
            Row(
                board="ESP32-S3",
                core="xtensa-lx7",
                engine=engine,
                clock_hz=240_000_000,
                workload=workloads["pd"],
                latency_ms=latency,
                source=f"espressif/esp-tflite-micro README, person detection {note}",
                model="pd",
            )
        )
    for version, latency in ((1, 46.0), (2, 30.0)):
        name = f"mobilenet_v{version}"
        rows.append(
            Row(
                board="Raspberry Pi 3 B+ / BCM2837B0",
                core="cortex-a53",
                engine="xnnpack",
                clock_hz=1_400_000_000,
                workload=workload_from_ops(
                    name, _mobilenet(version), "built layer by layer (paper tables)"
                ),
                latency_ms=latency,
                source=f"google/XNNPACK README, int8 MobileNetV{version} 1.0 224, multi-threaded",
                model=name,
            )
        )
    v2 = workload_from_ops("mobilenet_v2", _mobilenet(2), "")
    scale = 67_300_000 / v2.macs
    mcunet = Workload(
        "mcunet_in2",
        tuple(round(w * scale) for w in v2.work),
        v2.ops,
        67_300_000,
        "MobileNetV2's op mix scaled to MCUNet in2's 67.3 M MACs (assumption)",
    )
    for engine, macs_per_cycle in (
        ("tflm-reference", 0.02),
        ("tflm-cmsis-nn", 0.22),
        ("x-cube-ai", 0.40),
    ):
        rows.append(
            Row(
                board="NUCLEO-H743ZI / STM32H743",
                core="cortex-m7",
                engine=engine,
                clock_hz=480_000_000,
                workload=mcunet,
                latency_ms=67_300_000 / (480e6 * macs_per_cycle) * 1000,
                source=f"mit-han-lab/tinyengine README (docs/BOARDS.md): MCUNet in2 "
                f"{macs_per_cycle} MACs/cycle at 480 MHz, op mix assumed MobileNetV2's",
                model="mcunet_in2",
            )
        )
    return rows
