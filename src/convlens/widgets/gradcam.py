"""Browsing Grad-CAM heatmaps: an ipywidgets viewer (needs a kernel) and a kernel-free pager.

Both draw the lecture's look (:func:`convlens.plotting.gradcam.lecture_blend`: the jet heatmap
at opacity 0.4 over the photo), as the chapter's figures do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import gradcam
from ..errors import ArgumentError, InputImageError
from ..plotting.gradcam import GRADCAM_ALPHA, GRADCAM_CMAP
from .pager import image_pager

__all__ = [
    "gradcam_browser",
    "overlay_pager",
]


def _label_name(label: int) -> str:
    return "dog" if int(label) == 1 else "cat"


def _browser_inputs(models: Mapping[str, object], images, labels: Sequence[int], names: Sequence[str] | None):
    """The photos as float32 (N, H, W, 3) with N >= 1, checked against the labels and names."""
    if not models:
        raise ArgumentError("gradcam_browser needs at least one model, e.g. {'dataaug': model}.")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or len(images) == 0:
        raise InputImageError(f"gradcam_browser needs at least one photo (N, H, W, 3) to browse; got shape "
                              f"{images.shape}.")
    if len(images) != len(labels):
        raise ArgumentError(f"gradcam_browser got {len(images)} photos but {len(labels)} labels; pass one label "
                            "per photo.")
    if names is not None and len(names) != len(images):
        raise ArgumentError(f"gradcam_browser got {len(images)} photos but {len(names)} names; pass one name per "
                            "photo.")
    return images


def gradcam_browser(
    models: Mapping[str, object],
    images: np.ndarray,
    labels: Sequence[int],
    names: Sequence[str] | None = None,
    methods: Sequence[str] = gradcam.METHODS,
):
    """Validation photos with a model picker, a method picker and a photo slider (ipywidgets).

    Each change computes one heatmap (a fraction of a second) and redraws the overlay. Widget
    state is not saved in the notebook: in the static book the stored figures are the view.
    """
    images = _browser_inputs(models, images, labels, names)
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from ..plotting.gradcam import overlay

    model_picker = widgets.Dropdown(options=list(models), description="model")
    method_picker = widgets.Dropdown(options=list(methods), description="method")
    index = widgets.IntSlider(0, 0, len(images) - 1, description="photo")
    output = widgets.Output()

    def redraw(*_):
        model = models[model_picker.value]
        result = gradcam.grad_cam_details(model, images[index.value], method=method_picker.value)
        p_dog = float(result.dog_probability[0])
        name = names[index.value] if names else f"photo {index.value}"
        title = (f"{name}: true {_label_name(labels[index.value])}, P(dog) = {p_dog:.3f}, "
                 f"explains '{_label_name(result.class_index[0])}'")
        with output:
            output.clear_output(wait=True)
            fig = overlay(images[index.value], result.heatmaps[0], title=title, inches=4.0)
            plt.show()
            plt.close(fig)

    for control in (model_picker, method_picker, index):
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([model_picker, method_picker]), index, output])
    display(box)
    return box


def overlay_pager(
    groups: Mapping[str, tuple[Sequence[np.ndarray], Sequence[np.ndarray], Sequence[str]]],
    title: str = "Grad-CAM overlays",
    display_px: int = 300,
    alpha: float = GRADCAM_ALPHA,
    cmap: str = GRADCAM_CMAP,
):
    """A kernel-free pager of overlays: ``groups`` maps a name to (photos, heatmaps, captions).

    The overlays are blended here with the figures' look (:func:`~convlens.plotting.gradcam.lecture_blend`)
    and embedded as JPEG images. Each group needs as many heatmaps and captions as photos.
    """
    from ..plotting.gradcam import lecture_blend

    for name, (photos, maps, captions) in groups.items():
        if not len(photos) == len(maps) == len(captions):
            raise ArgumentError(f"Group {name!r} of overlay_pager has {len(photos)} photos, {len(maps)} heatmaps "
                                f"and {len(captions)} captions; pass one heatmap and one caption per photo.")
    blended = {name: [lecture_blend(p, h, alpha, cmap) for p, h in zip(photos, maps, strict=True)]
               for name, (photos, maps, _captions) in groups.items()}
    captions = {name: list(caps) for name, (_photos, _maps, caps) in groups.items()}
    return image_pager(blended, title=title, item_label="photo", item_titles=captions, cmap=None,
                       image_format="jpeg", display_px=display_px)
