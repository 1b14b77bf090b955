"""Figure helpers shared by every chapter: image grids, sample photos, training curves."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "ACTIVATION_CMAP",
    "COLUMN_INCHES",
    "COLUMN_PX",
    "FIGURE_DPI",
    "MIN_FONT_PT",
    "image_grid",
    "show_photos",
    "smallest_text_px",
    "training_curves",
]


ACTIVATION_CMAP = "viridis"
"""Colormap of every activation and heatmap figure in the book."""

FIGURE_DPI = 100
"""Pixels per inch of the figures stored in the notebooks (matplotlib's default)."""

COLUMN_PX = 784
"""Width of the book's text column, in CSS pixels: a wider figure is shrunk to fit it."""

COLUMN_INCHES = COLUMN_PX / FIGURE_DPI
"""The widest figure that is shown at its natural size in the column."""

MIN_FONT_PT = 9
"""The smallest font size of every figure of convlens.plotting: 9 pt at 100 dpi is 12.5 px,
so a figure at most :data:`COLUMN_INCHES` wide shows its smallest text at >= 9 px."""


def smallest_text_px(fig) -> float:
    """The smallest visible text of ``fig`` in pixels as rendered in the book's column.

    Font size (points) x dpi / 72, times the shrink factor of a figure wider than the column
    (measured on the figure saved as the inline backend saves it, ``bbox_inches="tight"``).
    Infinity for a figure without text.
    """
    import io

    from matplotlib.text import Text

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    buffer.seek(0)
    from PIL import Image

    width = Image.open(buffer).size[0]
    sizes = [text.get_fontsize() for text in fig.findobj(Text) if text.get_visible() and text.get_text().strip()]
    if not sizes:
        return float("inf")
    return min(sizes) * FIGURE_DPI / 72 * min(1.0, COLUMN_PX / width)


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    suptitle: str | None = None,
    cmap: str = ACTIVATION_CMAP,
    cell_inches: float = 1.6,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """A grid of images (2-D arrays drawn with ``cmap``, RGB arrays as they are), axes off.

    Returns the figure. Titles are drawn small above each image; the figure is at most
    :data:`COLUMN_INCHES` wide (cells shrink to fit).
    """
    count = len(images)
    if count == 0:
        raise ValueError("image_grid needs at least one image.")
    ncols = max(1, min(ncols, count))
    cell_inches = min(cell_inches, COLUMN_INCHES / ncols)  # never wider than the book's column
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * cell_inches, nrows * cell_inches + (0.5 if suptitle else 0)), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= count:
            continue
        image = np.asarray(images[i])
        if image.ndim == 2:
            ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        else:
            ax.imshow(image)
        if titles is not None:
            ax.set_title(titles[i], fontsize=MIN_FONT_PT)
    if suptitle:
        fig.suptitle(suptitle, fontsize=12)
    fig.tight_layout()
    return fig


def show_photos(images: np.ndarray, titles: Sequence[str], ncols: int = 6, suptitle: str | None = None):
    """Photos (N, H, W, 3) in [0, 1] with one title each."""
    return image_grid(list(images), titles, ncols=ncols, suptitle=suptitle, cell_inches=2.0)


def training_curves(records: Mapping[str, Mapping]):
    """Accuracy and loss per epoch, training (dashed) and validation (solid), one colour per model."""
    fig, (acc_ax, loss_ax) = plt.subplots(2, 1, figsize=(COLUMN_INCHES, 7.6))
    for colour, (name, record) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], records.items(), strict=False):
        epochs = [row["epoch"] for row in record["history"]]
        for ax, key in ((acc_ax, "accuracy"), (loss_ax, "loss")):
            ax.plot(epochs, [row[key] for row in record["history"]], "--", color=colour, label=f"{name}: training")
            ax.plot(epochs, [row["val_" + key] for row in record["history"]], "-", color=colour,
                    label=f"{name}: validation")
    acc_ax.set(title="Accuracy per epoch", xlabel="epoch", ylabel="accuracy")
    loss_ax.set(title="Loss (binary cross-entropy) per epoch", xlabel="epoch", ylabel="loss")
    for ax in (acc_ax, loss_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return fig
