"""Probe loss and accuracy vs depth (the study's fig. 4.3), as PNG and SVG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from advisor.probe.blocks import PROBE_SOURCE, ProbeReport
from advisor.probe.curve import relative_depths


def save_probe_figure(
    curves: Sequence[tuple[str, ProbeReport]], out_dir: str | Path, name: str = "probe"
) -> list[Path]:
    """One line per (label, report). A single model is drawn over its block names; several
    models over relative depth (stem = 0, last block = 1) so that different N line up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    single = len(curves) == 1
    show_legend = not single and len(curves) <= 24
    figure, (loss_axis, accuracy_axis) = plt.subplots(
        1, 2, figsize=(13.5 if show_legend else 11, 4.2)
    )
    # several models: the colour says how deep a model is, the marker tells models apart
    depths = sorted({len(report.blocks) for _, report in curves})
    colours = plt.get_cmap("viridis")
    markers = "osD^vP*X"
    for position, (label, report) in enumerate(curves):
        x = list(range(len(report.blocks))) if single else relative_depths(len(report.blocks))
        style = (
            {"marker": "o"}
            if single
            else {
                "marker": markers[position % len(markers)],
                "markersize": 4,
                "color": colours(depths.index(len(report.blocks)) / max(1, len(depths) - 1) * 0.9),
            }
        )
        loss_axis.plot(x, report.test_losses, label=label, **style)
        accuracy_axis.plot(x, [100 * block.test_accuracy for block in report.blocks], **style)
    for axis in (loss_axis, accuracy_axis):
        if single:
            report = curves[0][1]
            axis.set_xticks(range(len(report.blocks)))
            axis.set_xticklabels([block.name for block in report.blocks], rotation=45, ha="right")
            axis.set_xlabel("block output")
        else:
            axis.set_xlabel("relative depth (stem = 0, last block = 1)")
        axis.grid(alpha=0.3)
    loss_axis.set_ylabel("probe cross-entropy on held-out data (nats)")
    accuracy_axis.set_ylabel("probe top-1 accuracy on held-out data (%)")
    test_images = "/".join(str(n) for n in sorted({report.test_images for _, report in curves}))
    subject = curves[0][0] if single else f"{len(curves)} models"
    figure.suptitle(
        f"Linear probe per block of {subject}: {PROBE_SOURCE} ({test_images} images)", fontsize=10
    )
    if show_legend:
        figure.legend(loc="center right", fontsize=7)
        figure.tight_layout(rect=(0, 0, 0.86, 1))
    else:
        figure.tight_layout()
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.svg"]
    for path in paths:
        figure.savefig(path, dpi=130)
    plt.close(figure)
    return paths
