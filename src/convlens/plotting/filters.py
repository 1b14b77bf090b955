"""Figures of the filter-patterns chapter: one pattern, grids of patterns, side-by-side comparisons.

Every pattern is a tile of at least 96 px in the book's column with the defaults (at most
:data:`~convlens.plotting.common.MAX_COLUMNS` a row; 5 for the interleaved grids, whose row
names take room); show fewer patterns per figure, or the pager
(:func:`convlens.widgets.filters.pattern_pager`), for the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..errors import ArgumentError
from .common import COLUMN_INCHES, MIN_FONT_PT, image_grid
from .stamp import mark_tiles, stamp

__all__ = [
    "activation_bars",
    "compare_pattern_grids",
    "compare_patterns",
    "pattern_grid",
    "pattern_titles",
    "show_pattern",
]


def pattern_titles(
    layer_name: str, indices: Sequence[int], silent: Sequence[bool] | None = None, mark: str = "silent"
) -> list[str]:
    """Titles "layer #index" of a row of patterns, "(mark)" added where ``silent`` is true."""
    flags = silent if silent is not None else [False] * len(indices)
    return [f"{layer_name} #{int(i)}" + (f" ({mark})" if flag else "") for i, flag in zip(indices, flags, strict=True)]


def show_pattern(pattern: np.ndarray, layer_name: str, index: int, inches: float = 4.0):
    """One filter pattern, large, titled by layer and filter index."""
    fig, ax = plt.subplots(figsize=(inches, inches + 0.3))
    mark_tiles(ax.imshow(pattern))
    ax.set_axis_off()
    ax.set_title(f"Pattern of filter {int(index)} of {layer_name}", fontsize=11)
    fig.tight_layout()
    return stamp(fig)


def pattern_grid(
    patterns: Sequence[np.ndarray],
    layer_name: str,
    indices: Sequence[int],
    ncols: int | None = None,
    suptitle: str | None = None,
    silent: Sequence[bool] | None = None,
    mark: str = "silent",
):
    """A grid of RGB patterns, each titled "layer #index", plus "(mark)" where ``silent`` is true.

    ``silent`` flags the filters that do not fire on their start (see ``filters.silent_filters``);
    ``mark`` says what that means for the picture (e.g. "pre-act.": another objective was used).
    ``ncols``: default :func:`~convlens.plotting.common.grid_columns` (at most 6, tiles >= 96 px).
    """
    _check_rows({"patterns": patterns}, indices, "{count} patterns for {indices} indices; pass one index per pattern")
    indices = [int(i) for i in indices]
    title = suptitle or f"Filter patterns of {layer_name} (filters {indices[0]} to {indices[-1]})"
    flags = silent if silent is not None else [False] * len(indices)
    # Short titles fit the column: "#i", with "*" for the flagged filters, explained in the title.
    titles = [f"#{i}" + ("*" if flag else "") for i, flag in zip(indices, flags, strict=True)]
    if any(flags):
        title += f"\n* {mark}"
    return image_grid(list(patterns), titles, ncols=ncols, suptitle=title, cell_inches=COLUMN_INCHES)


def _check_rows(rows: Mapping[str, Sequence], indices: Sequence[int], message: str) -> None:
    """One picture per index in every row, else an :class:`~convlens.errors.ArgumentError` (``message``
    formatted with ``name``, ``count`` and ``indices``)."""
    if len(indices) == 0:
        raise ArgumentError("No filter index given: pass at least one.")
    for name, row in rows.items():
        if len(row) != len(indices):
            raise ArgumentError("Got " + message.format(name=name, count=len(row), indices=len(indices)) + ".")


def compare_patterns(
    rows: Mapping[str, Sequence[np.ndarray]],
    indices: Sequence[int],
    suptitle: str,
    captions: Mapping[str, Sequence[str]] | None = None,
    cell_inches: float = 2.2,
):
    """Patterns of the same filters under several conditions, one row per condition (its name at left).

    ``captions`` optionally adds a line per image (e.g. the mean activation it reaches). The
    figure is at most the book's column wide (cells shrink to fit).
    """
    names = list(rows)
    _check_rows(rows, indices, "{count} patterns in row {name!r} for {indices} indices")
    cell_inches = min(cell_inches, (COLUMN_INCHES - 0.6) / len(indices))
    fig, axes = plt.subplots(
        len(names), len(indices), figsize=(len(indices) * cell_inches + 0.6, len(names) * (cell_inches + 0.4) + 0.7),
        squeeze=False,
    )
    for r, name in enumerate(names):
        for c, index in enumerate(indices):
            ax = axes[r, c]
            mark_tiles(ax.imshow(rows[name][c]))
            ax.set_xticks([])
            ax.set_yticks([])
            title = f"filter {int(index)}"
            if captions is not None and name in captions:
                title += f"\n{captions[name][c]}"
            ax.set_title(title, fontsize=MIN_FONT_PT)
        axes[r, 0].set_ylabel(name, fontsize=10)
    fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout(w_pad=0.2)
    return stamp(fig)


def compare_pattern_grids(grids: Mapping[str, Sequence[np.ndarray]], indices: Sequence[int], suptitle: str,
                          ncols: int = 5):
    """Two (or more) sets of patterns of the same filters, interleaved: for each run of ``ncols``
    filters, one row per set (its name at left), so that each filter's pictures sit one above the
    other. The figure is the book's column wide (5 columns: tiles of about 110 px)."""
    names = list(grids)
    _check_rows(grids, indices, "{count} patterns in grid {name!r} for {indices} indices")
    blocks = math.ceil(len(indices) / ncols)
    cell = (COLUMN_INCHES - 0.9) / ncols
    fig, axes = plt.subplots(blocks * len(names), ncols, squeeze=False,
                             figsize=(COLUMN_INCHES, blocks * len(names) * cell + blocks * 0.3 + 0.8))
    for block in range(blocks):
        for k, name in enumerate(names):
            row = block * len(names) + k
            for col in range(ncols):
                ax = axes[row, col]
                ax.set_xticks([])
                ax.set_yticks([])
                position = block * ncols + col
                if position >= len(indices):
                    ax.set_axis_off()
                    continue
                mark_tiles(ax.imshow(grids[name][position]))
                if k == 0:
                    ax.set_title(f"#{int(indices[position])}", fontsize=MIN_FONT_PT, pad=2)
            axes[row, 0].set_ylabel(name, fontsize=MIN_FONT_PT)
    fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout(h_pad=0.3, w_pad=0.2)
    return stamp(fig)


def activation_bars(values: Mapping[str, Sequence[float]], indices: Sequence[int], title: str,
                    ylabel: str = "mean activation of the filter"):
    """Grouped bars: the mean activation each method reaches, per filter."""
    names = list(values)
    x = np.arange(len(indices))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(min(COLUMN_INCHES, max(6.0, 0.9 * len(indices) + 2)), 3.6))
    for k, name in enumerate(names):
        ax.bar(x + (k - (len(names) - 1) / 2) * width, values[name], width, label=name)
    ax.set_xticks(x, [str(int(i)) for i in indices])
    ax.set(title=title, xlabel="filter index", ylabel=ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return stamp(fig)
