"""convlens.measures.heatmaps: where the evidence lies (hot area, top share, centre share)."""

import numpy as np
import pytest

from convlens.measures import heatmaps


def _spot(size: int = 10, row: int = 5, col: int = 5) -> np.ndarray:
    heat = np.zeros((size, size))
    heat[row, col] = 1.0
    return heat


def test_hot_area_small_spot_and_flat_map():
    flat = np.ones((10, 10))
    values = heatmaps.hot_area(np.stack([_spot(), flat]))
    assert values[0] == pytest.approx(0.01)
    assert values[1] == pytest.approx(1.0)


def test_blank_map_gives_nan():
    assert np.isnan(heatmaps.hot_area(np.zeros((4, 4)))[0])
    assert np.isnan(heatmaps.top_share(np.zeros((4, 4)))[0])
    assert np.isnan(heatmaps.centre_share(np.zeros((4, 4)))[0])


def test_top_share_concentrated_vs_flat():
    assert heatmaps.top_share(_spot(), 0.1)[0] == pytest.approx(1.0)
    assert heatmaps.top_share(np.ones((10, 10)), 0.1)[0] == pytest.approx(0.1)


def test_centre_share_centre_border_and_flat():
    assert heatmaps.centre_share(_spot(row=5, col=5))[0] == pytest.approx(1.0)
    assert heatmaps.centre_share(_spot(row=0, col=0))[0] == pytest.approx(0.0)
    assert heatmaps.centre_share(np.ones((10, 10)))[0] == pytest.approx(0.25)


def test_negative_maps_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="non-negative"):
        heatmaps.hot_area(-np.ones((3, 3)))


def test_a_batch_axis_is_added_to_one_map_and_other_shapes_are_refused():
    assert heatmaps.hot_area(_spot()).shape == (1,)
    with pytest.raises(ValueError, match=r"\(h, w\) or a batch \(N, h, w\)"):
        heatmaps.top_share(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        heatmaps.centre_share(np.full((3, 3), np.nan))


def test_overlay_lets_the_photo_show_through_where_the_heat_is_low():
    """The heatmap overlay's opacity follows the heat (convlens.plotting.gradcam.blend)."""
    from convlens.plotting.gradcam import blend

    photo = np.full((20, 20, 3), 0.5, np.float32)
    heat = np.zeros((20, 20), np.float32)
    heat[:10] = 1.0
    blended = blend(photo, heat, alpha=0.7)
    np.testing.assert_allclose(blended[15:], photo[15:], atol=1e-6)  # cold: the photo itself
    assert np.abs(blended[:5] - photo[:5]).max() > 0.1  # hot: coloured
    with pytest.raises(ValueError, match="alpha"):
        blend(photo, heat, alpha=1.5)
