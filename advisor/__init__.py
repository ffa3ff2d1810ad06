"""mcu-advisor: pick, train, quantize and prove-to-fit a PhiNet for a microcontroller."""

__version__ = "0.1.0"
