"""Per-op shapes and MACs of real .tflite files (the flatbuffer schema of tflite-micro)
against counts made independently of the parser."""

import re

import pytest

pytest.importorskip("tflite_micro")

from advisor.export.tflite_file import read_tflite
from advisor.latency.published import WORKLOAD_FILES

# MACs the MLPerf Tiny README and data (its macs column) give for each reference model.
PUBLISHED_MACS = {"ic": 12_501_632, "kws": 2_656_768, "ad": 264_192, "pd": 7_157_888}


@pytest.mark.parametrize("bench", sorted(WORKLOAD_FILES))
def test_total_macs_equal_the_published_count(latency_data, bench):
    model = read_tflite(latency_data / "models" / WORKLOAD_FILES[bench])
    assert model.macs == PUBLISHED_MACS[bench]
    assert len(model.operators) == len(model.ops)


def test_csv_macs_column_matches_the_parsed_models(latency_data):
    import csv

    with (latency_data / "mlperf_tiny_ic_kws_ad.csv").open() as file:
        listed = {(row["bench"], int(row["macs"])) for row in csv.DictReader(file)}
    for bench, macs in listed:
        assert read_tflite(latency_data / "models" / WORKLOAD_FILES[bench]).macs == macs


def test_person_detection_per_op_equals_the_layer_list(latency_data):
    """pd_pico_layers.txt lists op, output shape, kernel and MACs of every layer, in order."""
    layers = []
    for line in (latency_data / "pd_pico_layers.txt").read_text().splitlines():
        match = re.match(r"\s*(\d+) (\w+) .*?(?:k(\d)x(\d) .*?)?(\d+) i8$", line)
        if match:
            index, op, kh, kw, macs = match.groups()
            layers.append((int(index), op, None if kh is None else (int(kh), int(kw)), int(macs)))
    model = read_tflite(latency_data / "models" / "person_detect_pico.tflite")
    assert len(layers) == len(model.operators) == 31
    for (index, op, kernel, macs), parsed in zip(layers, model.operators):
        assert (parsed.index, parsed.op, parsed.macs) == (index, op, macs)
        if kernel is not None:
            assert parsed.kernel_hw == kernel
    classes = {parsed.op_class for parsed in model.operators}
    assert classes == {"depthwise", "conv_1x1", "pooling", "elementwise"}


def test_live_bytes_follow_the_tensors(latency_data):
    model = read_tflite(latency_data / "models" / "person_detect_pico.tflite")
    first = model.operators[0]
    # the 96x96x1 input and the 48x48x8 output of the first depthwise conv, int8
    assert first.live_bytes == 96 * 96 + 48 * 48 * 8
    assert max(op.live_bytes for op in model.operators) == 48 * 48 * 8 + 48 * 48 * 16
