"""Pagers open on a frame worth seeing: an active channel, a chosen filter."""

import re

import numpy as np
import pytest

from convlens.errors import ArgumentError
from convlens.widgets.activations import activation_pager_html
from convlens.widgets.filters import pattern_pager
from convlens.widgets.pager import image_pager_html


def _shown(page: str, group: int) -> int:
    block = re.search(rf'data-group="{group}"[^>]*data-start="(\d+)"', page)
    return int(block.group(1))


def test_activation_pager_opens_each_layer_on_its_most_active_channel():
    maps = np.zeros((1, 4, 4, 5), np.float32)
    maps[0, :, :, 3] = 2.0  # channels 0-2 and 4 blank, 3 active
    second = np.zeros((1, 2, 2, 3), np.float32)
    second[0, 0, 0, 1] = 1.0
    page = activation_pager_html({"a": maps, "b": second})
    assert _shown(page, 0) == 3 and _shown(page, 1) == 1
    assert 'value="3"' in page  # the slider starts there too
    assert re.search(r'<figure data-index="3" style="display:block', page)


def test_image_pager_checks_its_start():
    frames = {"g": [np.zeros((4, 4)), np.ones((4, 4))]}
    assert 'data-start="1"' in image_pager_html(frames, start={"g": 1})
    with pytest.raises(ArgumentError):
        image_pager_html(frames, start={"g": 2})


def test_pattern_pager_opens_on_the_named_filter():
    patterns = np.zeros((3, 8, 8, 3), np.uint8)
    html = pattern_pager({"conv": ([4, 9, 24], patterns)}, start={"conv": 24}).data
    assert 'data-start="2"' in html
    with pytest.raises(ArgumentError, match="no pattern of filter 5"):
        pattern_pager({"conv": ([4, 9, 24], patterns)}, start={"conv": 5})
