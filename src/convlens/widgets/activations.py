"""Exploring every layer and channel: an ipywidgets explorer (kernel) and a static pager (no kernel)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from .. import activations as act
from ..errors import ArgumentError, LayerSelectionError
from ..layers import select_layers
from ..plotting.activations import layer_scale
from ..plotting.common import ACTIVATION_CMAP
from ..plotting.stamp import stamp
from .pager import image_pager_html


def _pager_groups(activations: Mapping[str, np.ndarray], layers: Sequence[str] | None, index: int):
    """Per layer: every channel on the layer's one colour scale (0..1), one title per channel.

    Also, per layer, the channel the pager opens on: the one with the largest mean response on
    the photo, so that a layer never opens on a blank channel.
    """
    names = list(layers) if layers is not None else list(activations)
    groups: dict[str, list[np.ndarray]] = {}
    titles: dict[str, list[str]] = {}
    starts: dict[str, int] = {}
    for name in names:
        if name not in activations:
            raise LayerSelectionError(
                f"No activations for layer {name!r}; valid layer names: {', '.join(activations)}."
            )
        scale = layer_scale(activations, name, index)
        maps = np.asarray(activations[name])
        maps = scale.normalize(maps[index] if maps.ndim == 4 else maps)
        height, width, count = maps.shape
        key = f"{name} ({height} x {width} x {count}), colours 0 to {scale.high:.3g}"
        groups[key] = [maps[:, :, c] for c in range(count)]  # native size: small PNGs
        titles[key] = [f"{name}, channel {c} of 0..{count - 1}" for c in range(count)]
        starts[key] = int(np.argmax(maps.mean(axis=(0, 1))))
    return groups, titles, starts


def activation_pager_html(
    activations: Mapping[str, np.ndarray],
    layers: Sequence[str] | None = None,
    title: str = "Every channel of every layer",
    index: int = 0,
    display_px: int = 300,
    cmap: str = ACTIVATION_CMAP,
) -> str:
    """Self-contained HTML: pick a layer, slide through its channels (one PNG per channel).

    Each layer's channels share one colour scale, the grid's
    (:func:`convlens.plotting.activations.layer_scale`: 0 to the 99.5th percentile of the
    layer's values, named in the layer's menu entry), coloured with ``cmap`` (viridis) and
    embedded at their native size, so the page needs no kernel and no external script and
    stays small.
    """
    groups, titles, starts = _pager_groups(activations, layers, index)
    return image_pager_html(groups, title=title, item_label="channel", item_titles=titles, cmap=cmap,
                            display_px=display_px, start=starts)


def activation_pager(activations: Mapping[str, np.ndarray], layers: Sequence[str] | None = None,
                     title: str = "Every channel of every layer", index: int = 0, display_px: int = 300,
                     cmap: str = ACTIVATION_CMAP):
    """The pager of :func:`activation_pager_html` as an ``IPython.display.HTML`` object."""
    from IPython.display import HTML

    return HTML(activation_pager_html(activations, layers, title, index, display_px, cmap))


class ActivationExplorer:
    """ipywidgets controls: photo, layer and channel; the figure follows without a new forward pass.

    ``photos`` maps a label to an image path or a (150, 150, 3) / (1, 150, 150, 3) array. The
    feature maps of a photo are computed once, on first use, and cached; changing the layer or
    the channel only redraws. A text box takes any image path (loaded with
    :func:`convlens.images.load_image`). Needs a kernel: the rendered book shows the static pager.
    """

    def __init__(self, model, photos: Mapping[str, object], layers=None):
        import ipywidgets as widgets

        if not photos:
            raise ArgumentError("ActivationExplorer needs at least one photo (a label -> path or array mapping).")
        self.model = model
        self.layer_names = [layer.name for layer in select_layers(model, layers)]
        self.photos: dict[str, object] = dict(photos)
        self.cache: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        self.forward_passes = 0
        self.photo = widgets.Dropdown(options=list(self.photos), description="photo")
        self.path = widgets.Text(placeholder="or type an image path and press Enter", description="path")
        self.layer = widgets.Dropdown(options=self.layer_names, description="layer")
        self.channel = widgets.IntSlider(min=0, max=0, value=0, description="channel", continuous_update=False)
        self.message = widgets.HTML()
        self.output = widgets.Output()
        self.photo.observe(self._on_change, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.channel.observe(self._on_change, names="value")
        self.path.on_submit(self._on_path)
        self.widget = widgets.VBox(
            [widgets.HBox([self.photo, self.path]), widgets.HBox([self.layer, self.channel]), self.message, self.output]
        )
        self._on_layer()

    def activations_for(self, label: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The photo and its feature maps, computed once per photo (one forward pass), then cached."""
        if label not in self.cache:
            from ..images import load_image

            source = self.photos[label]
            image = load_image(source) if isinstance(source, (str, os.PathLike)) else np.asarray(source)
            image = image if image.ndim == 4 else image[None]
            self.cache[label] = (image, act.get_activations(self.model, image, self.layer_names))
            self.forward_passes += 1
        return self.cache[label]

    def _on_path(self, _=None) -> None:
        from ..images import ImageLoadError, load_image

        path = self.path.value.strip()
        try:
            image = load_image(path)
        except ImageLoadError as exc:
            self.message.value = f"<span style='color:#b00'>{exc}</span>"
            return
        label = os.path.basename(path) or path
        self.photos[label] = image
        self.cache.pop(label, None)
        self.message.value = ""
        self.photo.options = list(self.photos)
        self.photo.value = label

    def _on_layer(self, _=None) -> None:
        count = self.activations_for(self.photo.value)[1][self.layer.value].shape[-1]
        self.channel.max = count - 1
        self.channel.value = min(self.channel.value, count - 1)
        self.draw()

    def _on_change(self, _=None) -> None:
        self.draw()

    def figure(self):
        """The current view: the photo and the chosen channel (raw values, colour bar)."""
        import matplotlib.pyplot as plt

        image, activations = self.activations_for(self.photo.value)
        values = act.channel_map(activations, self.layer.value, self.channel.value)
        fig, (left, right) = plt.subplots(1, 2, figsize=(7.8, 3.6))
        left.imshow(image[0])
        left.set(title=f"photo: {self.photo.value}", xlabel="x (pixels)", ylabel="y (pixels)")
        shown = right.imshow(values, cmap=ACTIVATION_CMAP)
        right.set(title=f"{self.layer.value}, channel {self.channel.value} ({values.shape[0]} x {values.shape[1]})",
                  xlabel="x (cells)", ylabel="y (cells)")
        fig.colorbar(shown, ax=right, label="activation")
        fig.tight_layout()
        return stamp(fig)  # legible sizes recorded, as every figure of the book

    def draw(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import clear_output

        with self.output:
            clear_output(wait=True)
            self.figure()
            plt.show()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def activation_explorer(model, photos: Mapping[str, object], layers=None) -> ActivationExplorer:
    """An :class:`ActivationExplorer` for ``model`` over ``photos`` (label -> path or array)."""
    return ActivationExplorer(model, photos, layers)


__all__ = ["ActivationExplorer", "activation_explorer", "activation_pager", "activation_pager_html"]
