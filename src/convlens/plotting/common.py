"""Figure helpers shared by every chapter: sizes, one colour scale per grid, image grids, photos, curves.

Sizes: the figures are drawn at :data:`FIGURE_DPI` for the book's :data:`COLUMN_PX` column, with
text of at least :data:`MIN_FONT_PT` and tiles of at least :data:`~.stamp.MIN_TILE_PX` on screen,
so a grid has at most :data:`MAX_COLUMNS` columns. Every figure carries a stamp of its tile and
text sizes in its image file (:mod:`convlens.plotting.stamp`), which the browser test reads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from ..checks import check_int
from ..errors import ArgumentError
from .stamp import mark_tiles, read_stamp, stamp

__all__ = [
    "ACTIVATION_CMAP",
    "COLUMN_INCHES",
    "COLUMN_PX",
    "FIGURE_DPI",
    "MAX_COLUMNS",
    "MIN_FONT_PT",
    "GridScale",
    "grid_columns",
    "image_grid",
    "show_photos",
    "smallest_text_px",
    "smallest_tile_px",
    "training_curves",
]


ACTIVATION_CMAP = "viridis"
"""Colormap of every activation figure in the book (Grad-CAM heatmaps: ``plotting.gradcam.GRADCAM_CMAP``)."""

FIGURE_DPI = 100
"""Pixels per inch of the figures stored in the notebooks (matplotlib's default)."""

COLUMN_PX = 688
"""Width of the book's text column, in CSS pixels, at a 1280 px window: a wider figure is shrunk to fit it.

Measured in the built book (Chromium): a cell output is 688 px wide at a 1280 px window (666 px
inside a solution box of the students' book, 621 px in the instructors' edition, whose solutions
sit in an admonition), 790 px at 1440 px and wider."""

COLUMN_INCHES = COLUMN_PX / FIGURE_DPI
"""The widest figure that is shown at its natural size in the column."""

MIN_FONT_PT = 9
"""The smallest font size of every figure of convlens.plotting: 9 pt at 100 dpi is 12.5 px,
so a figure at most :data:`COLUMN_INCHES` wide shows its smallest text at >= 9 px."""

MAX_COLUMNS = 6
"""The most tiles a grid puts in a row: 6 tiles of ~108 px fill the 688 px column with margins
and gaps (~104 px in a 666 px solution box); 7 would be under
:data:`~convlens.plotting.stamp.MIN_TILE_PX` (96 px) each. In the instructors' edition a solution
box is 621 px, where 6 columns give 95 px: a grid drawn in a solution passes ``ncols=5``."""

_COLOUR_NAMES = {"viridis": ("dark purple", "yellow"), "jet": ("dark blue", "dark red"), "gray": ("black", "white")}


@dataclass(frozen=True)
class GridScale:
    """One colour scale for every tile of a grid: ``low`` -> the lowest colour, ``high`` -> the top one.

    ``rule`` says how ``high`` was chosen (e.g. "the 99.5th percentile"), ``peak`` is the largest
    value, drawn in the top colour like everything above ``high``. :attr:`caption` is the
    sentence a chapter puts under the figure.
    """

    low: float
    high: float
    peak: float
    rule: str
    what: str = "the values"
    cmap: str = ACTIVATION_CMAP

    def normalize(self, values) -> np.ndarray:
        """``values`` mapped to 0..1 on this scale (clipped), as float32."""
        span = self.high - self.low if self.high > self.low else 1.0
        return np.clip((np.asarray(values, np.float32) - self.low) / span, 0.0, 1.0)

    @property
    def label(self) -> str:
        """A short colour-bar label."""
        return f"{self.what}: one scale, {self.low:.3g} to {self.high:.3g}"

    @property
    def caption(self) -> str:
        """One sentence stating the scale, for the figure's caption."""
        bottom, top = _COLOUR_NAMES.get(self.cmap, ("the lowest colour", "the top colour"))
        above = ""
        if self.peak > self.high:
            above = f"; the few values above it, up to {self.peak:.3g}, are drawn {top} too"
        return (f"One colour scale for every tile, {self.what}: {self.low:.3g} is {bottom} in every tile and "
                f"{self.high:.3g} ({self.rule}) is {top}{above}.")

    def __str__(self) -> str:
        return self.caption


def grid_columns(count: int, ncols: int | None = None) -> int:
    """Columns for a grid of ``count`` tiles: ``ncols`` (at most ``count``), or chosen.

    Chosen: all tiles in one row up to :data:`MAX_COLUMNS`, else, among :data:`MAX_COLUMNS` down
    to 4 columns, the fewest rows, then the fewest empty cells, then the most columns.
    """
    count = check_int("the number of images", count, minimum=1)
    if ncols is not None:
        return min(check_int("ncols", ncols, minimum=1), count)
    if count <= MAX_COLUMNS:
        return count
    return min(range(MAX_COLUMNS, 3, -1), key=lambda c: (math.ceil(count / c), -count % c, -c))


def _saved_stamp(fig) -> tuple[dict, int]:
    """The stamp of ``fig`` saved as the inline backend saves it, and the saved image's width."""
    from PIL import Image

    stamp(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    return read_stamp(buffer.getvalue()) or {}, Image.open(buffer).size[0]


def smallest_text_px(fig) -> float:
    """The smallest visible text of ``fig`` in pixels as rendered in the book's column.

    Measured on the figure saved as the inline backend saves it (``bbox_inches="tight"``), with
    its stamp (:mod:`~convlens.plotting.stamp`), times the shrink factor of a figure wider than
    the column. Infinity for a figure without text.
    """
    record, width = _saved_stamp(fig)
    if record.get("text_px") is None:
        return float("inf")
    return record["text_px"] * min(1.0, COLUMN_PX / width)


def smallest_tile_px(fig) -> float:
    """The smallest tile of ``fig`` in pixels as rendered in the book's column (infinity: no tiles)."""
    record, width = _saved_stamp(fig)
    if record.get("tile_px") is None:
        return float("inf")
    return record["tile_px"] * min(1.0, COLUMN_PX / width)


def _grid_figure(count: int, ncols: int, cell: float, titled: bool, suptitle: str | None, colorbar: bool):
    """A constrained-layout figure of ``count`` cells, ``ncols`` a row, each ``cell`` inches square."""
    nrows = math.ceil(count / ncols)
    lines = suptitle.count("\n") + 1 if suptitle else 0
    height = nrows * (cell + (0.2 if titled else 0.04)) + 0.25 * lines + (0.6 if colorbar else 0) + 0.05
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * cell, height), squeeze=False, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    suptitle: str | None = None,
    cmap: str = ACTIVATION_CMAP,
    cell_inches: float = 1.6,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar_label: str | None = None,
):
    """A grid of images (2-D arrays drawn with ``cmap``, RGB arrays as they are), axes off. Returns the figure.

    ``ncols`` columns (default: :func:`grid_columns`); at most :data:`MAX_COLUMNS` keeps each tile
    at least 96 px in the book's column. Titles are drawn small above each image; the figure is
    at most :data:`COLUMN_INCHES` wide (cells shrink to fit). With ``vmin``/``vmax`` every 2-D
    image shares one colour scale, and ``colorbar_label`` adds its colour bar below the grid.
    """
    count = len(images)
    if count == 0:
        raise ArgumentError("image_grid needs at least one image.")
    if titles is not None and len(titles) != count:
        raise ArgumentError(f"image_grid got {count} images but {len(titles)} titles; pass one title per image.")
    ncols = grid_columns(count, ncols)
    cell = min(cell_inches, (COLUMN_INCHES - 0.3) / ncols)  # never wider than the book's column
    fig, axes = _grid_figure(count, ncols, cell, titles is not None, suptitle, colorbar_label is not None)
    shown = None
    for i, ax in enumerate(axes.flat[:count]):
        image = np.asarray(images[i])
        two_d = image.ndim == 2
        drawn = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax) if two_d else ax.imshow(image)
        shown = drawn if two_d else shown
        mark_tiles(drawn)
        if titles is not None:
            ax.set_title(titles[i], fontsize=MIN_FONT_PT, pad=2)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    if colorbar_label is not None and shown is not None:
        bar = fig.colorbar(shown, ax=axes, orientation="horizontal", fraction=0.5 / fig.get_figheight(),
                           aspect=40, pad=0.01)
        bar.set_label(colorbar_label, fontsize=MIN_FONT_PT)
        bar.ax.tick_params(labelsize=MIN_FONT_PT)
    return stamp(fig)


def show_photos(images: np.ndarray, titles: Sequence[str], ncols: int | None = None, suptitle: str | None = None):
    """Photos (N, H, W, 3) in [0, 1] with one title each (at most :data:`MAX_COLUMNS` a row by default)."""
    return image_grid(list(images), titles, ncols=ncols, suptitle=suptitle, cell_inches=2.0)


def training_curves(records: Mapping[str, Mapping]):
    """Accuracy and loss, training (dashed) and validation (solid), one colour per model.

    The x axis counts training steps (batches) when every record gives ``steps_per_epoch``, so
    that models trained on different numbers of photos compare by the work done; else epochs.
    """
    by_steps = all("steps_per_epoch" in record for record in records.values())
    unit = "training steps (batches)" if by_steps else "epoch"
    fig, (acc_ax, loss_ax) = plt.subplots(2, 1, figsize=(COLUMN_INCHES, 7.6))
    for colour, (name, record) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], records.items(), strict=False):
        scale = record["steps_per_epoch"] if by_steps else 1
        epochs = [row["epoch"] * scale for row in record["history"]]
        for ax, key in ((acc_ax, "accuracy"), (loss_ax, "loss")):
            ax.plot(epochs, [row[key] for row in record["history"]], "--", color=colour, label=f"{name}: training")
            ax.plot(epochs, [row["val_" + key] for row in record["history"]], "-", color=colour,
                    label=f"{name}: validation")
    acc_ax.set(title="Accuracy after each epoch", xlabel=unit, ylabel="accuracy")
    loss_ax.set(title="Loss (binary cross-entropy) after each epoch", xlabel=unit, ylabel="loss")
    for ax in (acc_ax, loss_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return stamp(fig)

