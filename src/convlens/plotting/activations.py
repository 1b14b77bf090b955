"""Figures of the intermediate-activations chapter (drawing only; numbers come from
:mod:`convlens.activations`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .. import activations as act
from ..checks import check_channels, check_int
from ..errors import ArgumentError
from ..measures import feature_maps, read_out
from .common import ACTIVATION_CMAP, COLUMN_INCHES, MIN_FONT_PT, GridScale, image_grid
from .stamp import mark_tiles, stamp

DISPLAY_LABEL = "display value (0-255)"
"""Colour-bar label of a grid drawn with Chollet's per-channel display scaling
(:func:`convlens.activations.display_scale`)."""


def _cmap_with_white_gaps(name: str = ACTIVATION_CMAP):
    return matplotlib.colormaps[name].with_extremes(bad="white")


def show_input(image: np.ndarray, title: str):
    """The photo exactly as the model receives it (150 x 150 RGB in [0, 1]), pixel axes labelled."""
    image = np.asarray(image)
    if image.ndim == 4:
        image = image[0]
    fig, ax = plt.subplots(figsize=(4.2, 4.4))
    mark_tiles(ax.imshow(image))
    ax.set(title=title, xlabel="x (pixels)", ylabel="y (pixels)")
    fig.tight_layout()
    return stamp(fig)


def method_diagram(layer_names: Sequence[str], shapes: Mapping[str, Sequence[int]] | None = None):
    """The method as a drawing: input E -> activation model -> one output A_i per layer -> maps S_i."""
    count = len(layer_names)
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 0.5 * count + 1.4))
    ax.set_xlim(0, 11)
    ax.set_ylim(-0.8, count + 0.6)
    ax.set_axis_off()
    middle = (count - 1) / 2

    def box(x, y, w, h, text, colour):
        ax.add_patch(FancyBboxPatch((x, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=colour, ec="0.3"))
        ax.text(x + w / 2, y, text, ha="center", va="center", fontsize=MIN_FONT_PT)

    def arrow(x0, y0, x1, y1):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=12, color="0.3"))

    box(0.1, middle, 1.7, 1.0, "input E\n(1, 150, 150, 3)\nthe photo", "#dbe9f6")
    label = "activation model\nkeras.Model(\n model.input,\n [A_1 ... A_n])\none forward pass"
    box(2.4, middle, 2.4, max(1.4, count * 0.55), label, "#fde9c9")
    arrow(1.85, middle, 2.35, middle)
    for i, name in enumerate(layer_names):
        y = count - 1 - i
        shape = f" {tuple(shapes[name])}" if shapes and name in shapes else ""
        box(5.5, y, 2.6, 0.5, f"A_{i + 1} = {name}", "#e3f1df")
        arrow(4.85, middle, 5.45, y)
        box(8.7, y, 2.2, 0.5, f"S_{i + 1}{shape}", "#efe3f4")
        arrow(8.15, y, 8.65, y)
    ax.text(5.5 + 1.3, count - 0.2, "layer outputs A_i", ha="center", fontsize=MIN_FONT_PT, style="italic")
    ax.text(8.7 + 1.1, count - 0.2, "feature maps S_i", ha="center", fontsize=MIN_FONT_PT, style="italic")
    ax.set_title("One model, one output per layer, one forward pass")
    fig.tight_layout()
    return stamp(fig)


def plot_channel(activations: Mapping[str, np.ndarray], layer: str, channel: int, index: int = 0):
    """One channel's raw activation values (viridis, colour bar in activation units)."""
    values = act.channel_map(activations, layer, channel, index)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    shown = mark_tiles(ax.imshow(values, cmap=ACTIVATION_CMAP))
    ax.set(
        title=f"{layer}, channel {channel} ({values.shape[0]} x {values.shape[1]})",
        xlabel="x (cells of the feature map)",
        ylabel="y (cells of the feature map)",
    )
    fig.colorbar(shown, ax=ax, label="activation (ReLU output)")
    fig.tight_layout()
    return stamp(fig)


def layer_scale(activations: Mapping[str, np.ndarray], layer: str, index: int = 0,
                percentile: float = 99.5) -> GridScale:
    """One colour scale for every channel of ``layer`` (image ``index``): 0 to a high percentile.

    ``high`` is the ``percentile`` of all the layer's values for that image (all channels, zeros
    included), so that a few extreme values do not darken every tile; the values above it are
    drawn in the top colour. Zero, "no activation", has the lowest colour in every channel. A
    layer with no positive value gets the scale 0 to 1. ``scale.caption`` states the scale.
    """
    if not 0 < percentile <= 100:
        raise ArgumentError(f"percentile must lie in (0, 100]; got {percentile!r}.")
    maps = _maps(activations, layer, index)
    peak = float(maps.max())
    high = float(np.percentile(maps, percentile))
    rule = "the largest value" if percentile == 100 else f"the {percentile:g}th percentile of the layer's values"
    if high <= 0:
        high, rule = 1.0, "no value of the layer is above 0"
    return GridScale(0.0, high, peak, rule, what=f"{layer}'s activations for this photo", cmap=ACTIVATION_CMAP)


def _maps(activations: Mapping[str, np.ndarray], layer: str, index: int) -> np.ndarray:
    """The (H, W, C) maps of image ``index`` of ``layer`` (errors name the valid layers and images)."""
    act.channel_map(activations, layer, 0, index)  # checks the layer name and the image index
    maps = np.asarray(activations[layer], dtype=np.float32)
    return maps[index] if maps.ndim == 4 else maps


def _channel_list(channels, count: int, layer: str) -> list[int]:
    """``channels`` as a list: a whole number N means the first N (all if fewer), else the chosen ones."""
    if isinstance(channels, (int, np.integer)) and not isinstance(channels, (bool, np.bool_)):
        return list(range(min(check_int("channels", channels, minimum=1), count)))
    return [int(c) for c in check_channels(layer, channels, count)]


def plot_layer(activations: Mapping[str, np.ndarray], layer: str, channels: int | Sequence[int] = 16,
               ncols: int | None = None, index: int = 0, scale: GridScale | str = "layer"):
    """Channels of ``layer`` as a grid of tiles, one title "#channel" each, with one colour bar.

    ``channels``: how many (the first N) or which channels to show; the pager
    (:func:`convlens.widgets.activations.activation_pager`) holds every channel. ``ncols``: at
    most :data:`~convlens.plotting.common.MAX_COLUMNS` keeps tiles >= 96 px in the column.
    ``scale``: "layer" (default, :func:`layer_scale`: one scale for the grid, zero has one colour
    everywhere), a :class:`GridScale`, or "channel" (Chollet's display scaling, each channel its
    own contrast, :func:`convlens.activations.display_scale`). The colour bar states the scale;
    for the caption use ``layer_scale(...).caption``. A blank channel (all zeros) is titled so.
    """
    maps = _maps(activations, layer, index)
    height, width, count = maps.shape
    shown = _channel_list(channels, count, layer)
    blank = feature_maps.blank_channels(maps)[0]
    if isinstance(scale, str) and scale == "channel":
        tiles, label, low, high = act.display_scale(maps), DISPLAY_LABEL, 0, 255
    elif isinstance(scale, str) and scale == "layer":
        scale = layer_scale(activations, layer, index)
    elif not isinstance(scale, GridScale):
        raise ArgumentError(f"scale must be 'layer', 'channel' or a GridScale; got {scale!r}.")
    if isinstance(scale, GridScale):
        tiles, label, low, high = maps, scale.label, scale.low, scale.high
    which = f"channels {shown[0]}-{shown[-1]}" if shown == list(range(shown[0], shown[-1] + 1)) else "chosen channels"
    title = (f"{layer}: {height} x {width} x {count}, {int(blank.sum())} of {count} channels blank\n"
             f"{which} ({len(shown)} of {count}; #: channel)")
    return image_grid([tiles[:, :, c] for c in shown], [f"#{c}" + (" blank" if blank[c] else "") for c in shown],
                      ncols=ncols, suptitle=title, cmap=ACTIVATION_CMAP, vmin=low, vmax=high, colorbar_label=label)


def plot_sparsity(fractions: Mapping[str, Mapping[int, float]], class_names: Sequence[str] = ("cats", "dogs"),
                  count_per_class: Mapping[int, int] | None = None):
    """Bar chart: fraction of blank (all-zero) channels per layer, one bar per class."""
    layers = list(fractions)
    positions = np.arange(len(layers))
    width = 0.38
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 4.4))
    for k, name in enumerate(class_names):
        values = [fractions[layer].get(k, np.nan) for layer in layers]
        label = name + (f" ({count_per_class[k]} photos)" if count_per_class else "")
        bars = ax.bar(positions + (k - 0.5) * width, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=MIN_FONT_PT, rotation=90, padding=2)
    ax.set_xticks(positions, layers, rotation=30, ha="right")
    ax.set(ylim=(0, 1.15), ylabel="fraction of channels all zero", xlabel="layer",
           title="Blank channels per layer, averaged over validation photos")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return stamp(fig)


def plot_layer_measures(probe: Mapping[str, float], r2: Mapping[str, float], input_probe: float | None = None):
    """Two panels per layer: linear-probe accuracy (class information) and photo R^2 (visual information)."""
    fig, (left, right) = plt.subplots(2, 1, figsize=(COLUMN_INCHES, 8.0))
    layers = list(probe)
    left.plot(layers, [probe[layer] for layer in layers], "o-", label="probe on pooled activations")
    left.axhline(0.5, color="0.5", ls=":", label="chance (0.5)")
    if input_probe is not None:
        left.axhline(input_probe, color="tab:red", ls="--", label=f"probe on the photo's mean RGB ({input_probe:.2f})")
    left.set(ylim=(0.4, 1.0), ylabel="test accuracy, cats vs dogs", xlabel="layer",
             title="Class information: linear probe per layer")
    left.legend(fontsize=MIN_FONT_PT)
    layers_r2 = list(r2)
    right.plot(layers_r2, [r2[layer] for layer in layers_r2], "s-", color="tab:green")
    right.set(ylim=(0, 1.02), ylabel="R^2 of the photo's pixels", xlabel="layer",
              title="Visual information: linear read-out of the photo")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_ha("right")
    fig.tight_layout()
    return stamp(fig)


def plot_edge_channels(image: np.ndarray, activations: Mapping[str, np.ndarray], layer: str,
                       correlations: Mapping[str, np.ndarray]):
    """The photo's Sobel edge maps beside the channels of ``layer`` that correlate most with them."""
    image = np.asarray(image)
    image = image[0] if image.ndim == 4 else image
    panels = [("the photo (grey level)", read_out.edge_maps(image)["intensity"], "gray", None)]
    for kind in read_out.EDGE_KINDS[1:]:
        best = int(np.argmax(correlations[kind]))
        polarity = int(correlations[kind + " polarity"][best])
        name = [key for key in read_out.edge_maps(image) if key.startswith(kind)][polarity]
        panels.append((name.replace(", ", "\n(Sobel, ") + ")", read_out.edge_map(image, kind, polarity), "gray", None))
        panels.append((f"{layer} channel {best}\n(mean r = {correlations[kind][best]:.2f} with these)",
                       act.channel_map(activations, layer, best), ACTIVATION_CMAP, "activation"))
    # Two rows at the column's width: the photo, then each edge map beside its best channel.
    fig, axes = plt.subplots(2, 3, figsize=(COLUMN_INCHES, 5.8))
    places = [axes[0, 0], axes[0, 1], axes[0, 2], axes[1, 1], axes[1, 2]]
    axes[1, 0].set_axis_off()
    for ax, (title, values, cmap, label) in zip(places, panels, strict=True):
        shown = mark_tiles(ax.imshow(values, cmap=cmap))
        ax.set_title(title, fontsize=MIN_FONT_PT)
        ax.set_axis_off()
        if label:
            bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
            bar.set_label(label, fontsize=MIN_FONT_PT)
            bar.ax.tick_params(labelsize=MIN_FONT_PT)
    fig.suptitle(f"First-layer channels as edge detectors ({layer})")
    fig.tight_layout()
    return stamp(fig)


__all__ = [
    "DISPLAY_LABEL",
    "layer_scale",
    "method_diagram",
    "plot_channel",
    "plot_edge_channels",
    "plot_layer",
    "plot_layer_measures",
    "plot_sparsity",
    "show_input",
]
