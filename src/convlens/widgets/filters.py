"""Interaction for the filter-patterns chapter: a live pattern picker and a kernel-free pager."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import filters
from ..core import conv_and_pooling_layer_names, find_layer
from ..errors import ArgumentError
from .pager import image_pager

__all__ = [
    "pattern_explorer",
    "pattern_pager",
]


def pattern_pager(grids: Mapping[str, tuple[Sequence[int], np.ndarray]], title: str = "Stored filter patterns",
                  display_px: int = 300):
    """A kernel-free pager over stored grids: ``{layer: (indices, uint8 patterns)}``, JPEG-encoded."""
    for name, (indices, patterns) in grids.items():
        if len(indices) != len(patterns):
            raise ArgumentError(f"Layer {name!r} has {len(patterns)} patterns for {len(indices)} filter indices; "
                                "pass one index per pattern.")
    groups = {name: list(patterns) for name, (_, patterns) in grids.items()}
    titles = {name: [f"{name}, filter {int(i)}" for i in indices] for name, (indices, _) in grids.items()}
    return image_pager(groups, title=title, item_label="filter", item_titles=titles, cmap=None,
                       image_format="jpeg", display_px=display_px)


def pattern_explorer(model, layer_names: Sequence[str] | None = None, steps: int = filters.STEPS, seed: int = 0,
                     size: int = filters.PATTERN_SIZE):
    """A layer + filter picker that computes the pattern live, with a progress bar (needs a kernel)."""
    import ipywidgets as widgets
    from PIL import Image

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
    status = widgets.Label("")

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
            import io

            buffer = io.BytesIO()
            Image.fromarray(pattern).save(buffer, format="PNG")
            image.value = buffer.getvalue()
            status.value = f"{layer.value}, filter {index.value}, {step_count.value} steps"
        finally:
            button.disabled = False

    layer.observe(on_layer, names="value")
    button.on_click(on_click)
    box = widgets.VBox([widgets.HBox([layer, index, step_count]), widgets.HBox([button, progress, status]), image])
    return box
