"""A per-op bar chart: estimated time, MACs and live RAM of each op (matplotlib, imported
only here)."""

from __future__ import annotations

from pathlib import Path

from advisor.errors import AdvisorError

_COLORS = {
    "conv_kxk": "tab:blue",
    "conv_1x1": "tab:cyan",
    "depthwise": "tab:orange",
    "fully_connected": "tab:purple",
    "elementwise": "tab:gray",
    "pooling": "tab:green",
}


def plot_ops(path, *, labels, classes, latency_ms, macs, live_bytes, title: str) -> Path:
    """Write the chart to `path` (.png or .svg); `latency_ms` entries may be None (not
    estimated: the time panel is left out)."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise AdvisorError(f"--plot {path}: give a .png or .svg file name")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    panels = [("MACs", macs), ("live RAM (bytes)", live_bytes)]
    if all(value is not None for value in latency_ms):
        panels.insert(0, ("estimated time (ms)", latency_ms))
    positions = range(len(labels))
    colors = [_COLORS.get(cls, "black") for cls in classes]
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(max(8, 0.28 * len(labels)), 2.6 * len(panels)), sharex=True
    )
    for axis, (name, values) in zip(axes, panels):
        axis.bar(positions, values, color=colors)
        axis.set_ylabel(name)
        axis.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(list(positions))
    axes[-1].set_xticklabels(labels, rotation=90, fontsize=6)
    axes[0].set_title(title)
    used = sorted(set(classes), key=list(_COLORS).index)
    axes[0].legend(
        handles=[Patch(color=_COLORS[cls], label=cls) for cls in used],
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
