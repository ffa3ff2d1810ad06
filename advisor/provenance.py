"""Where a printed figure came from. Every number the tool shows carries one of these."""

COST_MODEL = "cost model"  # computed from the architecture, advisor.cost
SCALING_LAW = (
    "scaling law"  # predicted by a fitted prior, advisor.scaling (append the prior's name)
)
BOARD_PROFILE = "board profile"  # read from a board's TOML file
ASSUMED = "board profile (assumed)"  # a board profile's figure that nobody measured
LINKED_IMAGE = "measured: linked image under QEMU"  # sizes of the emulated firmware's ELF
CONVERTER = "measured: TFLite converter"  # bytes of the .tflite file written
TFLITE_MICRO = "measured: TFLite Micro"  # arena and outputs from the real TFLM interpreter
TRAINING = "measured: training run"  # accuracy on held-out data after training
LINEAR_PROBE = "measured: linear probe on held-out data"  # advisor.probe
LITERATURE = "literature"  # published by others (a paper, a model card), cited per row


def latency_model(engine: str, measurements: int, typical_error: float | None) -> str:
    """Where every latency figure comes from: the latency model, advisor.latency."""
    error = "unknown" if typical_error is None else f"+-{100 * typical_error:.0f} %"
    return (
        f"estimated: latency model ({engine}, calibrated on {measurements} published "
        f"measurements, typical error {error})"
    )


def linked_image(compiler: str, tflm_commit: str) -> str:
    """Flash measured in a firmware image linked for the core (advisor.firmware), with the
    tools that built it."""
    return f"{LINKED_IMAGE} ({compiler}, TFLM {tflm_commit})"
