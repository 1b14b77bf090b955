"""Figures of the Grad-CAM chapter: heatmaps over photos, model and method comparisons, checks.

The look is the lecture's and keras.io's: the heatmap in the "jet" colormap
(:data:`GRADCAM_CMAP`), laid over the photo at one constant opacity (:data:`GRADCAM_ALPHA`,
0.4) wherever it is hot or cold, with a colour bar, and beside it the heatmap alone
(:func:`heatmap_and_overlay`). Every figure here has that look, so Grad-CAM++ and the sanity
checks are drawn the same way: one column per method or per model in :func:`comparison_grid`.
:func:`blend` keeps the earlier overlay whose opacity follows the heat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ..errors import ArgumentError, InputImageError
from ..gradcam import upsample
from .common import ACTIVATION_CMAP, COLUMN_INCHES, MIN_FONT_PT
from .stamp import mark_tiles, stamp

__all__ = [
    "GRADCAM_ALPHA",
    "GRADCAM_CMAP",
    "HEATMAP_LABEL",
    "blend",
    "comparison_grid",
    "correlation_histogram",
    "deletion_plot",
    "heatmap_and_overlay",
    "lecture_blend",
    "overlay",
    "overlay_grid",
]


GRADCAM_CMAP = "jet"
"""Colormap of every Grad-CAM heatmap, as in the lecture and keras.io (blue: 0, dark red: 1)."""

GRADCAM_ALPHA = 0.4
"""Opacity of the heatmap over the photo, the same everywhere (keras.io: ``heatmap * 0.4 + img``)."""

HEATMAP_LABEL = "Grad-CAM importance (0: none; 1: the photo's maximum)"


def _photo(image) -> np.ndarray:
    """One RGB photo (H, W, 3) in [0, 1] as float32, or a clear error."""
    photo = np.asarray(image, dtype=np.float32)
    if photo.ndim == 4 and photo.shape[0] == 1:
        photo = photo[0]
    if photo.ndim != 3 or photo.shape[-1] != 3:
        raise InputImageError(f"Expected one RGB photo (H, W, 3), got shape {photo.shape}.")
    if photo.max() > 1.0:
        raise InputImageError("Photo values must lie in [0, 1]; divide 0-255 values by 255.")
    return photo


def blend(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.8, cmap: str = ACTIVATION_CMAP,
          follow_heat: bool = True) -> np.ndarray:
    """The photo (H, W, 3) in [0, 1], any resolution, with the heatmap resized to it and blended on top.

    ``follow_heat`` (the earlier look of this book): where the heatmap is 0 the photo shows
    unchanged, where it is 1 the colour covers it with opacity ``alpha``:
    ``(1 - alpha * heat) * photo + alpha * heat * colour(heat)``. Otherwise one opacity
    everywhere, ``(1 - alpha) * photo + alpha * colour(heat)``: see :func:`lecture_blend`.
    Returns an (H, W, 3) array in [0, 1].
    """
    photo = _photo(image)
    if not 0.0 <= alpha <= 1.0:
        raise ArgumentError(f"alpha must lie in [0, 1], not {alpha!r}.")
    heat = upsample(np.asarray(heatmap, dtype=np.float32), photo.shape[:2])
    colours = matplotlib.colormaps[cmap](heat)[..., :3].astype(np.float32)
    weight = (alpha * heat if follow_heat else np.full_like(heat, alpha))[..., None].astype(np.float32)
    return np.clip((1.0 - weight) * photo + weight * colours, 0.0, 1.0)


def lecture_blend(image: np.ndarray, heatmap: np.ndarray, alpha: float = GRADCAM_ALPHA,
                  cmap: str = GRADCAM_CMAP) -> np.ndarray:
    """The lecture's overlay: the jet heatmap at one opacity (0.4) over the photo, hot or cold.

    ``(1 - alpha) * photo + alpha * jet(heat)`` with the heatmap resized (bilinear) to the photo;
    an (H, W, 3) array in [0, 1]. Cold regions are tinted blue, so the overlay never vanishes
    on a pale or green background.
    """
    return blend(image, heatmap, alpha=alpha, cmap=cmap, follow_heat=False)


def _colorbar(fig, axes, cmap: str = GRADCAM_CMAP, label: str = HEATMAP_LABEL) -> None:
    mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0.0, 1.0),
                                            cmap=matplotlib.colormaps[cmap])
    bar = fig.colorbar(mappable, ax=axes, fraction=0.046 if np.ndim(axes) == 0 else 0.025, pad=0.02)
    bar.set_label(label, fontsize=MIN_FONT_PT)
    bar.ax.tick_params(labelsize=MIN_FONT_PT)


def overlay(image: np.ndarray, heatmap: np.ndarray, title: str | None = None, alpha: float = GRADCAM_ALPHA,
            ax=None, inches: float | None = None, cmap: str = GRADCAM_CMAP):
    """One photo with its heatmap over it (:func:`lecture_blend`) and a colour bar. Returns the figure.

    The heatmap (any size, e.g. 15 x 15) is resized to the photo, so a large original photo
    keeps its detail.
    """
    photo = _photo(image)
    if ax is None:
        size = inches or max(3.0, min(COLUMN_INCHES / 1.25, photo.shape[1] / 100))
        fig, ax = plt.subplots(figsize=(size * 1.25, size))
    else:
        fig = ax.figure
    mark_tiles(ax.imshow(lecture_blend(photo, heatmap, alpha, cmap)))
    ax.set_title(title or f"Grad-CAM over the photo ({photo.shape[1]} x {photo.shape[0]} pixels)", fontsize=10)
    ax.set_axis_off()
    _colorbar(fig, ax, cmap)
    return stamp(fig)


def _same_length(what: str, count: int, **others: Sequence) -> None:
    """At least one photo, and ``count`` items in each of ``others``, else an ArgumentError naming them."""
    if count == 0:
        raise ArgumentError(f"{what} needs at least one photo.")
    wrong = {name: len(items) for name, items in others.items() if items is not None and len(items) != count}
    if wrong:
        counts = ", ".join(f"{n} {name}" for name, n in wrong.items())
        raise ArgumentError(f"{what} needs as many heatmaps as photos (and one title each): got {count} photos and "
                            f"{counts}.")


def overlay_grid(images: Sequence[np.ndarray], heatmaps: Sequence[np.ndarray], titles: Sequence[str] | None = None,
                 ncols: int = 3, suptitle: str | None = None, cell_inches: float = 2.2, alpha: float = GRADCAM_ALPHA,
                 cmap: str = GRADCAM_CMAP):
    """A grid of photos with their heatmaps over them (:func:`lecture_blend`), one shared colour bar.

    Cells are at most ``cell_inches`` and shrink so that the figure fits the book's column
    (:data:`~convlens.plotting.common.COLUMN_INCHES` at 100 dpi): 9-point titles stay legible.
    Returns the figure.
    """
    count = len(images)
    _same_length("overlay_grid", count, heatmaps=heatmaps, titles=titles)
    ncols = max(1, min(ncols, count))
    cell_inches = min(cell_inches, (COLUMN_INCHES - 1.0) / ncols)
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * cell_inches + 1.0, nrows * cell_inches + 0.6),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < count:
            mark_tiles(ax.imshow(lecture_blend(images[i], heatmaps[i], alpha, cmap)))
            if titles is not None:
                ax.set_title(titles[i], fontsize=MIN_FONT_PT)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    _colorbar(fig, axes, cmap)
    return stamp(fig)


def comparison_grid(images: Sequence[np.ndarray], columns: Mapping[str, Sequence[np.ndarray]],
                    row_titles: Sequence[str] | None = None, cell_titles: Mapping[str, Sequence[str]] | None = None,
                    suptitle: str | None = None, cell_inches: float = 2.2, alpha: float = GRADCAM_ALPHA,
                    cmap: str = GRADCAM_CMAP):
    """One row per photo: the photo, then one heatmap overlay per column (a model, a method, a check).

    ``columns`` maps a column name to one heatmap per photo, e.g. ``{"Grad-CAM": maps,
    "Grad-CAM++": maps_pp}`` or ``{"trained": maps, "random weights": random_maps}`` (the sanity
    check), all drawn with the lecture's look. ``cell_titles`` optionally gives each overlay its
    own title (e.g. the probability that model gave). Cells shrink to fit the book's column.
    Returns the figure.
    """
    names = list(columns)
    count = len(images)
    _same_length("comparison_grid", count, row_titles=row_titles, **{f"in column {n!r}": columns[n] for n in names})
    cell_inches = min(cell_inches, (COLUMN_INCHES - 1.0) / (len(names) + 1))
    fig, axes = plt.subplots(count, len(names) + 1, squeeze=False, layout="constrained",
                             figsize=((len(names) + 1) * cell_inches + 1.0, count * cell_inches + 0.6))
    for row in range(count):
        mark_tiles(axes[row, 0].imshow(np.clip(images[row], 0, 1)))
        axes[row, 0].set_title(row_titles[row] if row_titles else "photo", fontsize=MIN_FONT_PT)
        for col, name in enumerate(names, start=1):
            mark_tiles(axes[row, col].imshow(lecture_blend(images[row], columns[name][row], alpha, cmap)))
            title = cell_titles[name][row] if cell_titles and name in cell_titles else name
            axes[row, col].set_title(title, fontsize=MIN_FONT_PT)
    for ax in axes.flat:
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    _colorbar(fig, axes, cmap)
    return stamp(fig)


def heatmap_and_overlay(image: np.ndarray, heatmap: np.ndarray, title: str | None = None, layer: str = "last conv",
                        alpha: float = GRADCAM_ALPHA, cmap: str = GRADCAM_CMAP):
    """The lecture's Grad-CAM figure: the heatmap alone, beside it over the photo, one colour bar.

    Left: the raw heatmap at the conv layer's resolution (one square per position, jet);
    right: it resized over the photo at constant opacity (:func:`lecture_blend`). Returns the figure.
    """
    photo = _photo(image)
    heat = np.asarray(heatmap, dtype=np.float32)
    fig, (raw_ax, over_ax) = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.4), layout="constrained")
    mark_tiles(raw_ax.imshow(heat, cmap=matplotlib.colormaps[cmap], vmin=0.0, vmax=1.0, interpolation="nearest"))
    raw_ax.set_title(f"alone: {layer}'s {heat.shape[1]} x {heat.shape[0]} grid", fontsize=10)
    raw_ax.set_xlabel("feature-map column", fontsize=MIN_FONT_PT)
    raw_ax.set_ylabel("feature-map row", fontsize=MIN_FONT_PT)
    raw_ax.tick_params(labelsize=MIN_FONT_PT)
    # whole grid cells only: ticks at 0, 2, 4 ... (never 2.5)
    raw_ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, integer=True))
    raw_ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, integer=True))
    mark_tiles(over_ax.imshow(lecture_blend(photo, heat, alpha, cmap)))
    over_ax.set_title(f"over the photo ({photo.shape[1]} x {photo.shape[0]} px, opacity {alpha:g})", fontsize=10)
    over_ax.set_axis_off()
    _colorbar(fig, [raw_ax, over_ax], cmap)
    if title:
        fig.suptitle(title, fontsize=12)
    return stamp(fig)


def deletion_plot(fractions: Sequence[float], curves: Mapping[str, Sequence[float]], title: str | None = None):
    """Deletion curves (mean class probability vs fraction of pixels deleted), area under each in the legend."""
    from ..measures.heatmaps import curve_area

    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 4.2))
    for name, values in curves.items():
        style = "--" if "random" in name.lower() else "-"
        ax.plot(fractions, values, style, marker="o", markersize=3,
                label=f"{name} (area {curve_area(fractions, values):.3f})")
    ax.set(xlabel="fraction of pixels deleted (most important first)", ylabel="mean probability of the class",
           title=title or "Deletion: deleting what the heatmap ranks highest first", xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return stamp(fig)


def correlation_histogram(values: Mapping[str, np.ndarray], title: str | None = None):
    """Histograms of per-photo Spearman rank correlations between heatmaps (NaNs left out)."""
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 4.0))
    bins = np.linspace(-1, 1, 41)
    for name, corr in values.items():
        corr = np.asarray(corr, dtype=np.float64)
        finite = corr[np.isfinite(corr)]
        ax.hist(finite, bins=bins, alpha=0.6, label=f"{name} (median {np.median(finite):.2f}, {len(finite)} photos)")
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set(xlabel="Spearman rank correlation between the two heatmaps of a photo", ylabel="photos",
           title=title or "Model randomization check", xlim=(-1, 1))
    ax.legend(fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return stamp(fig)
