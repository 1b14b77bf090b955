"""Figures of the Grad-CAM chapter: heatmaps over photos, model and method comparisons, checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ..gradcam import upsample
from .common import ACTIVATION_CMAP, COLUMN_INCHES, MIN_FONT_PT

__all__ = [
    "HEATMAP_LABEL",
    "blend",
    "comparison_grid",
    "correlation_histogram",
    "deletion_plot",
    "heatmap_and_overlay",
    "overlay",
    "overlay_grid",
]


HEATMAP_LABEL = "Grad-CAM importance (0: photo shows through; 1: the maximum)"


def blend(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.8, cmap: str = ACTIVATION_CMAP) -> np.ndarray:
    """The photo (H, W, 3) in [0, 1], any resolution, with the heatmap resized to it and blended on top.

    The opacity follows the heat, as in Chollet's overlays: where the heatmap is 0 the photo shows
    unchanged, where it is 1 the colour covers it with opacity ``alpha``. Returns an (H, W, 3)
    array in [0, 1]: ``(1 - alpha * heat) * photo + alpha * heat * colour(heat)``.
    """
    photo = np.asarray(image, dtype=np.float32)
    if photo.ndim == 4 and photo.shape[0] == 1:
        photo = photo[0]
    if photo.ndim != 3 or photo.shape[-1] != 3:
        raise ValueError(f"blend needs one RGB photo (H, W, 3), got shape {photo.shape}.")
    if photo.max() > 1.0:
        raise ValueError("Photo values must lie in [0, 1]; divide 0-255 values by 255.")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], not {alpha!r}.")
    heat = upsample(np.asarray(heatmap, dtype=np.float32), photo.shape[:2])
    colours = matplotlib.colormaps[cmap](heat)[..., :3].astype(np.float32)
    weight = (alpha * heat)[..., None].astype(np.float32)
    return np.clip((1.0 - weight) * photo + weight * colours, 0.0, 1.0)


def _colorbar(fig, axes, cmap: str = ACTIVATION_CMAP, label: str = HEATMAP_LABEL) -> None:
    mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0.0, 1.0), cmap=cmap)
    bar = fig.colorbar(mappable, ax=axes, fraction=0.046 if np.ndim(axes) == 0 else 0.025, pad=0.02)
    bar.set_label(label, fontsize=MIN_FONT_PT)
    bar.ax.tick_params(labelsize=MIN_FONT_PT)


def overlay(
    image: np.ndarray,
    heatmap: np.ndarray,
    title: str | None = None,
    alpha: float = 0.8,
    ax=None,
    inches: float | None = None,
):
    """One photo with its heatmap blended over it and a colour bar, drawn at the photo's resolution.

    The heatmap (any size, e.g. 15 x 15) is resized to the photo, so a large original photo
    keeps its detail. Returns the figure.
    """
    photo = np.asarray(image, dtype=np.float32)
    if photo.ndim == 4:
        photo = photo[0]
    if ax is None:
        size = inches or max(3.0, min(COLUMN_INCHES / 1.25, photo.shape[1] / 100))
        fig, ax = plt.subplots(figsize=(size * 1.25, size))
    else:
        fig = ax.figure
    ax.imshow(blend(photo, heatmap, alpha))
    ax.set_title(title or f"Grad-CAM over the photo ({photo.shape[1]} x {photo.shape[0]} pixels)", fontsize=10)
    ax.set_axis_off()
    _colorbar(fig, ax)
    return fig


def overlay_grid(
    images: Sequence[np.ndarray],
    heatmaps: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int = 3,
    suptitle: str | None = None,
    cell_inches: float = 2.2,
    alpha: float = 0.8,
):
    """A grid of photos with their heatmaps blended over them, one shared colour bar. Returns the figure.

    The defaults (three photos of 2.2 inches per row) fit the book's 784-pixel column at 100 dpi,
    so that 9-point titles stay legible.
    """
    count = len(images)
    if count == 0 or len(heatmaps) != count:
        raise ValueError(f"overlay_grid needs as many heatmaps as photos (at least one); got {count} and "
                         f"{len(heatmaps)}.")
    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * cell_inches + 1.0, nrows * cell_inches + 0.6),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < count:
            ax.imshow(blend(images[i], heatmaps[i], alpha))
            if titles is not None:
                ax.set_title(titles[i], fontsize=MIN_FONT_PT)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    _colorbar(fig, axes)
    return fig


def comparison_grid(
    images: Sequence[np.ndarray],
    columns: Mapping[str, Sequence[np.ndarray]],
    row_titles: Sequence[str] | None = None,
    cell_titles: Mapping[str, Sequence[str]] | None = None,
    suptitle: str | None = None,
    cell_inches: float = 2.2,
):
    """One row per photo: the photo, then one heatmap overlay per column (a model or a method).

    ``columns`` maps a column name to one heatmap per photo; ``cell_titles`` optionally gives
    each overlay its own title (e.g. the probability that model gave). Returns the figure.
    """
    names = list(columns)
    count = len(images)
    if count == 0 or any(len(columns[name]) != count for name in names):
        raise ValueError("comparison_grid needs at least one photo and one heatmap per photo in every column.")
    fig, axes = plt.subplots(count, len(names) + 1, squeeze=False, layout="constrained",
                             figsize=((len(names) + 1) * cell_inches + 1.0, count * cell_inches + 0.6))
    for row in range(count):
        axes[row, 0].imshow(np.clip(images[row], 0, 1))
        axes[row, 0].set_title(row_titles[row] if row_titles else "photo", fontsize=MIN_FONT_PT)
        for col, name in enumerate(names, start=1):
            axes[row, col].imshow(blend(images[row], columns[name][row]))
            title = cell_titles[name][row] if cell_titles and name in cell_titles else name
            axes[row, col].set_title(title, fontsize=MIN_FONT_PT)
    for ax in axes.flat:
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    _colorbar(fig, axes)
    return fig


def deletion_plot(fractions: Sequence[float], curves: Mapping[str, Sequence[float]], title: str | None = None):
    """Deletion curves (mean class probability vs fraction of pixels blanked), area under each in the legend."""
    from ..checks import curve_area

    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    for name, values in curves.items():
        style = "--" if "random" in name.lower() else "-"
        ax.plot(fractions, values, style, marker="o", markersize=3,
                label=f"{name} (area {curve_area(fractions, values):.3f})")
    ax.set(xlabel="fraction of pixels blanked (most important first)", ylabel="mean probability of the class",
           title=title or "Deletion: blanking what the heatmap ranks highest", xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return fig


def correlation_histogram(values: Mapping[str, np.ndarray], title: str | None = None):
    """Histograms of per-photo Spearman rank correlations between heatmaps (NaNs left out)."""
    fig, ax = plt.subplots(figsize=(7.2, 4.0))
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
    return fig


def heatmap_and_overlay(image: np.ndarray, heatmap: np.ndarray, title: str | None = None, layer: str = "last conv"):
    """Left: the raw heatmap at the conv layer's resolution; right: it resized over the photo."""
    photo = np.asarray(image, dtype=np.float32)
    if photo.ndim == 4:
        photo = photo[0]
    heat = np.asarray(heatmap, dtype=np.float32)
    fig, (raw_ax, over_ax) = plt.subplots(1, 2, figsize=(7.8, 3.6), layout="constrained")
    shown = raw_ax.imshow(heat, cmap=ACTIVATION_CMAP, vmin=0.0, vmax=1.0)
    raw_ax.set_title(f"{layer}'s {heat.shape[1]} x {heat.shape[0]} grid", fontsize=10)
    raw_ax.set_xlabel("feature-map column", fontsize=MIN_FONT_PT)
    raw_ax.set_ylabel("feature-map row", fontsize=MIN_FONT_PT)
    raw_ax.tick_params(labelsize=MIN_FONT_PT)
    bar = fig.colorbar(shown, ax=raw_ax, fraction=0.046, pad=0.02)
    bar.set_label("importance", fontsize=MIN_FONT_PT)
    bar.ax.tick_params(labelsize=MIN_FONT_PT)
    overlay(photo, heat, title=f"Over the photo ({photo.shape[1]} x {photo.shape[0]} pixels)", ax=over_ax)
    if title:
        fig.suptitle(title, fontsize=12)
    return fig
