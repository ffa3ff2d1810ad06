import os
from pathlib import Path

import pytest

# The published latency data: $ADVISOR_LATENCY_DATA, else shared/data/latency beside the
# repository (CI has ../shared too).
DATA = Path(
    os.environ.get("ADVISOR_LATENCY_DATA")
    or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "latency"
)


@pytest.fixture(scope="session")
def latency_data() -> Path:
    if not (DATA / "mlperf_tiny_ic_kws_ad.csv").is_file():
        pytest.skip(f"published latency data not found at {DATA}")
    return DATA
