"""Figures of the filter-patterns chapter: one pattern, grids of patterns, side-by-side comparisons."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .common import image_grid


def pattern_titles(
    layer_name: str, indices: Sequence[int], silent: Sequence[bool] | None = None, mark: str = "silent"
) -> list[str]:
    """Titles "layer #index" of a row of patterns, "(mark)" added where ``silent`` is true."""
    flags = silent if silent is not None else [False] * len(indices)
    return [f"{layer_name} #{int(i)}" + (f" ({mark})" if flag else "") for i, flag in zip(indices, flags, strict=True)]


def show_pattern(pattern: np.ndarray, layer_name: str, index: int, inches: float = 4.0):
    """One filter pattern, large, titled by layer and filter index."""
    fig, ax = plt.subplots(figsize=(inches, inches + 0.3))
    ax.imshow(pattern)
    ax.set_axis_off()
    ax.set_title(f"Pattern of filter {int(index)} of {layer_name}", fontsize=11)
    fig.tight_layout()
    return fig


def pattern_grid(
    patterns: Sequence[np.ndarray],
    layer_name: str,
    indices: Sequence[int],
    ncols: int = 8,
    suptitle: str | None = None,
    silent: Sequence[bool] | None = None,
    mark: str = "silent",
):
    """A grid of RGB patterns, each titled "layer #index", plus "(mark)" where ``silent`` is true.

    ``silent`` flags the filters that do not fire on their start (see ``filters.silent_filters``);
    ``mark`` says what that means for the picture (e.g. "pre-act.": another objective was used).
    """
    if len(patterns) != len(indices):
        raise ValueError(f"Got {len(patterns)} patterns for {len(indices)} indices; pass one index per pattern.")
    indices = [int(i) for i in indices]
    title = suptitle or f"Filter patterns of {layer_name} (filters {indices[0]} to {indices[-1]})"
    titles = pattern_titles(layer_name, indices, silent, mark)
    return image_grid(list(patterns), titles, ncols=ncols, suptitle=title, cell_inches=1.5)


def compare_patterns(
    rows: Mapping[str, Sequence[np.ndarray]],
    indices: Sequence[int],
    suptitle: str,
    captions: Mapping[str, Sequence[str]] | None = None,
    cell_inches: float = 2.2,
):
    """Patterns of the same filters under several conditions, one row per condition (its name at left).

    ``captions`` optionally adds a line per image (e.g. the mean activation it reaches).
    """
    names = list(rows)
    for name in names:
        if len(rows[name]) != len(indices):
            raise ValueError(f"Row {name!r} has {len(rows[name])} patterns for {len(indices)} indices.")
    fig, axes = plt.subplots(
        len(names), len(indices), figsize=(len(indices) * cell_inches + 1.2, len(names) * cell_inches + 0.6),
        squeeze=False,
    )
    for r, name in enumerate(names):
        for c, index in enumerate(indices):
            ax = axes[r, c]
            ax.imshow(rows[name][c])
            ax.set_xticks([])
            ax.set_yticks([])
            title = f"filter {int(index)}"
            if captions is not None and name in captions:
                title += f"\n{captions[name][c]}"
            ax.set_title(title, fontsize=9)
        axes[r, 0].set_ylabel(name, fontsize=10)
    fig.suptitle(suptitle, fontsize=12)
    fig.tight_layout()
    return fig


def compare_pattern_grids(grids: Mapping[str, Sequence[np.ndarray]], indices: Sequence[int], suptitle: str,
                          ncols: int = 8, cell_inches: float = 0.95):
    """Two (or more) grids of the same filters side by side, each with its own heading (e.g. conv vs pool)."""
    names = list(grids)
    nrows = math.ceil(len(indices) / ncols)
    fig = plt.figure(figsize=(len(names) * ncols * cell_inches + 0.4 * len(names), nrows * cell_inches + 1.0))
    subfigs = np.atleast_1d(fig.subfigures(1, len(names), wspace=0.03))
    for subfig, name in zip(subfigs, names, strict=True):
        if len(grids[name]) != len(indices):
            raise ValueError(f"Grid {name!r} has {len(grids[name])} patterns for {len(indices)} indices.")
        axes = subfig.subplots(nrows, ncols, squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if i < len(indices):
                ax.imshow(grids[name][i])
                ax.set_title(f"#{int(indices[i])}", fontsize=7, pad=2)
        subfig.suptitle(name, fontsize=11)
    fig.suptitle(suptitle, fontsize=12, y=1.02)
    return fig


def activation_bars(values: Mapping[str, Sequence[float]], indices: Sequence[int], title: str,
                    ylabel: str = "mean activation of the filter"):
    """Grouped bars: the mean activation each method reaches, per filter."""
    names = list(values)
    x = np.arange(len(indices))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(indices) + 2), 3.6))
    for k, name in enumerate(names):
        ax.bar(x + (k - (len(names) - 1) / 2) * width, values[name], width, label=name)
    ax.set_xticks(x, [str(int(i)) for i in indices])
    ax.set(title=title, xlabel="filter index", ylabel=ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig
