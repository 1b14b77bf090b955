"""Interaction for the filter-patterns chapter: a live pattern picker and a kernel-free pager."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import filters
from ..errors import ArgumentError
from ..layers import conv_and_pooling_layer_names, find_layer
from .pager import image_pager

__all__ = [
    "pattern_explorer",
    "pattern_pager",
]


def pattern_pager(grids: Mapping[str, tuple[Sequence[int], np.ndarray]], title: str = "Stored filter patterns",
                  display_px: int = 300, start: Mapping[str, int] | None = None):
    """A kernel-free pager over stored grids: ``{layer: (indices, uint8 patterns)}``, JPEG-encoded.

    ``start`` names, for a layer, the filter the pager opens on (one of its indices; default the first).
    """
    for name, (indices, patterns) in grids.items():
        if len(indices) != len(patterns):
            raise ArgumentError(f"Layer {name!r} has {len(patterns)} patterns for {len(indices)} filter indices; "
                                "pass one index per pattern.")
    groups = {name: list(patterns) for name, (_, patterns) in grids.items()}
    titles = {name: [f"{name}, filter {int(i)}" for i in indices] for name, (indices, _) in grids.items()}
    opening = {}
    for name, index in (start or {}).items():
        indices = [int(i) for i in grids[name][0]]
        if index not in indices:
            raise ArgumentError(f"Layer {name!r} of the pager has no pattern of filter {index}; "
                                f"start on one of its filters: {indices[:8]}...")
        opening[name] = indices.index(index)
    return image_pager(groups, title=title, item_label="filter", item_titles=titles, cmap=None,
                       image_format="jpeg", display_px=display_px, start=opening)


def _png(picture: np.ndarray) -> bytes:
    """PNG bytes of an RGB picture (uint8, or floats in [0, 1])."""
    import io
    import json

    from PIL import Image, PngImagePlugin

    from ..plotting.stamp import STAMP_KEY

    array = np.asarray(picture)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    # one tile, no text: the stamp the book's figure check reads (convlens.plotting.stamp)
    info = PngImagePlugin.PngInfo()
    info.add_text(STAMP_KEY, json.dumps({"version": 1, "tile_px": float(min(array.shape[:2])), "tiles": 1,
                                         "text_px": None}))
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def pattern_explorer(model, layer_names: Sequence[str] | None = None, steps: int = filters.STEPS, seed: int = 0,
                     size: int = filters.PATTERN_SIZE):
    """A layer + filter picker that computes the pattern live, with a progress bar (needs a kernel)."""
    import ipywidgets as widgets

    names = list(layer_names) if layer_names else conv_and_pooling_layer_names(model)
    for name in names:
        find_layer(model, name, "filters")

    def channels(name: str) -> int:
        return int(model.get_layer(name).output.shape[-1])

    layer = widgets.Dropdown(options=names, value=names[-1], description="layer")
    index = widgets.IntSlider(value=0, min=0, max=channels(names[-1]) - 1, description="filter")
    step_count = widgets.IntSlider(value=steps, min=0, max=200, step=10, description="steps")
    button = widgets.Button(description="Compute pattern", button_style="primary")
    progress = widgets.IntProgress(value=0, min=0, max=steps, description="progress")
    image = widgets.Image(format="png", width=300, height=300)
    image.value = _png(filters.deprocess_image(filters.start_image(0, seed, size)))  # never an empty picture
    status = widgets.Label(f"the gray start of filter 0, {size} x {size}: press 'Compute pattern'")

    def on_layer(change) -> None:
        index.max = channels(change["new"]) - 1
        index.value = min(index.value, index.max)

    def on_click(_) -> None:
        button.disabled = True
        progress.max = max(1, step_count.value)
        progress.value = 0
        status.value = "computing..."

        def tick(done: int, total: int) -> None:
            progress.value = done

        try:
            pattern = filters.filter_pattern(model, layer.value, index.value, steps=step_count.value, seed=seed,
                                             size=size, callback=tick)
            image.value = _png(pattern)
            status.value = f"{layer.value}, filter {index.value}, {step_count.value} steps"
        finally:
            button.disabled = False

    layer.observe(on_layer, names="value")
    button.on_click(on_click)
    box = widgets.VBox([widgets.HBox([layer, index, step_count]), widgets.HBox([button, progress, status]), image])
    return box
