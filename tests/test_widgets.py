"""The viewers of convlens.widgets: the kernel-free pagers and the Grad-CAM browser's bad input.

The pagers hold what the figures leave out (every channel, every stored pattern), so they keep
the figures' colours: one scale per layer, a colormap that is a parameter, the Grad-CAM look.
Bad input gets a convlens error that says what to pass (issue 20).
"""

from __future__ import annotations

import base64
import io
import re

import matplotlib
import numpy as np
import pytest
from PIL import Image

from convlens import errors
from convlens.widgets import pager

RNG = np.random.default_rng(3)


def _decoded(page: str) -> list[np.ndarray]:
    """Every embedded image of a pager page, decoded to an RGB array."""
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))
            for data in re.findall(r'src="data:image/\w+;base64,([^"]+)"', page)]


def test_pager_titles_must_match_the_images():
    images = [RNG.random((4, 4)) for _ in range(3)]
    with pytest.raises(errors.ArgumentError, match="3 images but 2 titles"):
        pager.image_pager_html({"layer": images}, item_titles={"layer": ["a", "b"]})
    with pytest.raises(errors.ArgumentError, match="at least one group"):
        pager.image_pager_html({})
    with pytest.raises(errors.ArgumentError, match="holds no image"):
        pager.image_pager_html({"empty": []})
    with pytest.raises(errors.ArgumentError, match="display_px"):
        pager.image_pager_html({"layer": images}, display_px=40)
    with pytest.raises(errors.ArgumentError, match="colormap"):
        pager.image_pager_html({"layer": images}, cmap=None)
    with pytest.raises(errors.InputImageError, match="HxW"):
        pager.image_pager_html({"layer": [np.zeros((2, 2, 2, 2))]})
    page = pager.image_pager_html({"layer": images}, item_titles={"layer": ["a", "b", "c"]}, item_label="it's")
    assert page.count("<img ") == 3 and 'LABEL' not in page and '"it\'s" + " "' in page


def test_the_pager_colormap_is_a_parameter():
    ramp = np.linspace(0, 1, 16).reshape(4, 4)
    (viridis,) = _decoded(pager.image_pager_html({"g": [ramp]}))
    (grey,) = _decoded(pager.image_pager_html({"g": [ramp]}, cmap="gray"))
    expected = (np.asarray(matplotlib.colormaps["viridis"](ramp))[..., :3] * 255).round()
    np.testing.assert_array_equal(viridis, expected.astype(np.uint8))
    assert (grey[..., 0] == grey[..., 1]).all() and not (viridis[..., 0] == viridis[..., 1]).all()


def test_activation_pager_draws_zero_in_one_colour_and_names_the_scale():
    from convlens.widgets.activations import activation_pager_html

    maps = np.zeros((1, 6, 6, 3), np.float32)
    maps[0, :3, :, 0] = 5.0  # a strong channel
    maps[0, :3, :, 1] = 0.1  # a weak one; channel 2 is blank
    page = activation_pager_html({"c": maps}, cmap="viridis")
    frames = _decoded(page)
    zero = np.asarray(matplotlib.colormaps["viridis"](0.0)[:3]) * 255
    for frame in frames:  # the zero half of every channel: the same dark purple
        np.testing.assert_allclose(frame[4], np.tile(zero.round(), (6, 1)), atol=1)
    assert not np.allclose(frames[0][0], frames[1][0], atol=1)  # strong and weak differ: not rescaled each
    assert "colours 0 to 5" in page
    page_gray = activation_pager_html({"c": maps}, cmap="gray")
    assert _decoded(page_gray)[2].max() == 0


def test_pattern_pager_needs_one_index_per_pattern():
    from convlens.widgets.filters import pattern_pager

    patterns = RNG.integers(0, 255, (3, 8, 8, 3), dtype=np.uint8)
    with pytest.raises(errors.ArgumentError, match="3 patterns for 2 filter indices"):
        pattern_pager({"c1": ([0, 1], patterns)})
    assert pattern_pager({"c1": ([0, 1, 5], patterns)}).data.count("c1, filter 5") == 2  # alt and caption


def test_overlay_pager_refuses_mismatched_groups():
    from convlens.widgets import gradcam as widgets

    photos = RNG.random((3, 10, 10, 3)).astype(np.float32)
    maps = RNG.random((2, 4, 4)).astype(np.float32)
    with pytest.raises(errors.ArgumentError, match="3 photos, 2 heatmaps and 3 captions"):
        widgets.overlay_pager({"best": (photos, maps, ["a", "b", "c"])})
    with pytest.raises(errors.ArgumentError, match="1 captions"):
        widgets.overlay_pager({"best": (photos[:2], maps, ["a"])})


def test_overlay_pager_draws_the_lecture_look():
    from convlens.plotting.gradcam import lecture_blend
    from convlens.widgets import gradcam as widgets

    photo = np.full((1, 16, 16, 3), 0.5, np.float32)
    heat = np.zeros((1, 16, 16), np.float32)
    page = widgets.overlay_pager({"g": (photo, heat, ["cold"])}).data
    (frame,) = _decoded(page)
    expected = lecture_blend(photo[0], heat[0]) * 255
    np.testing.assert_allclose(frame.astype(float), expected, atol=8)  # JPEG, blue tint at 0.4


def test_gradcam_browser_needs_a_photo_a_model_and_one_label_each():
    from convlens.widgets.gradcam import gradcam_browser

    model = object()
    with pytest.raises(errors.InputImageError, match="at least one photo"):
        gradcam_browser({"m": model}, np.zeros((0, 8, 8, 3), np.float32), [])
    with pytest.raises(errors.ArgumentError, match="at least one model"):
        gradcam_browser({}, np.zeros((1, 8, 8, 3), np.float32), [0])
    with pytest.raises(errors.ArgumentError, match="2 photos but 1 labels"):
        gradcam_browser({"m": model}, np.zeros((2, 8, 8, 3), np.float32), [0])
    with pytest.raises(errors.ArgumentError, match="2 photos but 3 names"):
        gradcam_browser({"m": model}, np.zeros((2, 8, 8, 3), np.float32), [0, 1], names=["a", "b", "c"])


def test_activation_explorer_needs_a_photo():
    from convlens.widgets.activations import ActivationExplorer

    with pytest.raises(errors.ArgumentError, match="at least one photo"):
        ActivationExplorer(object(), {})
