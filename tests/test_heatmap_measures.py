"""Tests of convlens.compare: evidence-location measures and paired verdicts."""

import numpy as np
import pytest

from convlens import compare


def _spot(size: int = 10, row: int = 5, col: int = 5) -> np.ndarray:
    heat = np.zeros((size, size))
    heat[row, col] = 1.0
    return heat


def test_hot_area_small_spot_and_flat_map():
    flat = np.ones((10, 10))
    values = compare.hot_area(np.stack([_spot(), flat]))
    assert values[0] == pytest.approx(0.01)
    assert values[1] == pytest.approx(1.0)


def test_blank_map_gives_nan():
    assert np.isnan(compare.hot_area(np.zeros((4, 4)))[0])
    assert np.isnan(compare.top_share(np.zeros((4, 4)))[0])
    assert np.isnan(compare.centre_share(np.zeros((4, 4)))[0])


def test_top_share_concentrated_vs_flat():
    assert compare.top_share(_spot(), 0.1)[0] == pytest.approx(1.0)
    assert compare.top_share(np.ones((10, 10)), 0.1)[0] == pytest.approx(0.1)


def test_centre_share_centre_border_and_flat():
    assert compare.centre_share(_spot(row=5, col=5))[0] == pytest.approx(1.0)
    assert compare.centre_share(_spot(row=0, col=0))[0] == pytest.approx(0.0)
    assert compare.centre_share(np.ones((10, 10)))[0] == pytest.approx(0.25)


def test_negative_maps_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="non-negative"):
        compare.hot_area(-np.ones((3, 3)))


def test_paired_verdict_holds_fails_and_no_call():
    first = np.zeros(20)
    wins, trials, p, verdict = compare.paired_verdict(first, np.ones(20), "second is larger")
    assert (wins, trials) == (20, 20) and p < 1e-5 and verdict.holds is True
    _, _, _, verdict = compare.paired_verdict(first, -np.ones(20), "second is larger")
    assert verdict.holds is False
    # 14 of 20: p = 0.058, within the margin of 0.05: too close to call
    second = np.array([1.0] * 14 + [-1.0] * 6)
    _, _, p, verdict = compare.paired_verdict(first, second, "second is larger")
    assert p == pytest.approx(0.0577, abs=1e-3) and verdict.holds is None


def test_paired_verdict_leaves_out_nan_and_ties():
    first = np.array([0.0, 0.0, np.nan, 1.0])
    second = np.array([1.0, 0.0, 1.0, 2.0])
    wins, trials, _, _ = compare.paired_verdict(first, second, "claim")
    assert (wins, trials) == (2, 2)


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
