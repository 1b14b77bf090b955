"""convlens.measures.patterns: own filter vs others, roughness, flat patterns (on arrays, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from convlens.measures import patterns


def test_own_filter_scores_own_others_rank_and_pass():
    acts = np.array([[1.0, 5.0, 3.0, 0.0], [4.0, 1.0, 2.0, 9.0]])
    result = patterns.own_filter_scores(acts, [1, 2])
    np.testing.assert_allclose(result.own, [5.0, 2.0])
    np.testing.assert_allclose(result.others, [4.0 / 3, 14.0 / 3])
    np.testing.assert_array_equal(result.rank, [1, 3])
    np.testing.assert_array_equal(result.passes, [True, False])


def test_own_filter_scores_accepts_one_row_and_matches_the_chapters_hand_check():
    after = np.random.default_rng(0).random(128).astype(np.float32)
    shown = 7
    result = patterns.own_filter_scores(after, [shown])
    assert result.own[0] == after[shown]
    assert result.others[0] == pytest.approx(np.delete(after, shown).mean(), rel=1e-6)
    assert result.rank[0] == int((after > after[shown]).sum()) + 1


@pytest.mark.parametrize(
    ("acts", "indices", "error", "match"),
    [
        (np.zeros((2, 4)), [0], ValueError, "one integer filter number per pattern"),
        (np.zeros((2, 4)), [0.5, 1], TypeError, "Filter numbers must be integers in 0..3"),
        (np.zeros((2, 1)), [0, 0], ValueError, "at least 2 filters"),
        (np.zeros((2, 4)), [0, 4], IndexError, r"0\.\.3"),
    ],
)
def test_own_filter_scores_refuses_mismatched_input(acts, indices, error, match):
    with pytest.raises(error, match=match):
        patterns.own_filter_scores(acts, indices)


def test_roughness_is_high_for_noise_low_for_smooth_and_contrast_free():
    rng = np.random.default_rng(0)
    noise = rng.random((64, 64, 3))
    ramp = np.broadcast_to(np.linspace(0, 1, 64)[:, None, None], (64, 64, 3))
    assert patterns.roughness(noise) == pytest.approx(4.0, rel=0.1)
    assert patterns.roughness(ramp) < 0.01
    assert patterns.roughness(noise * 10 + 3) == pytest.approx(patterns.roughness(noise))
    batch = patterns.roughness(np.stack([noise, ramp]))
    assert batch.shape == (2,) and batch[0] > 100 * batch[1]


def test_roughness_is_the_chapters_formula_on_uint8_images():
    image = np.random.default_rng(1).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    values = image.astype(float)
    expected = (np.diff(values, axis=0) ** 2).mean() / values.var() + (
        np.diff(values, axis=1) ** 2
    ).mean() / values.var()
    assert patterns.roughness(image) == expected


def test_roughness_refuses_a_vector():
    with pytest.raises(ValueError, match="image"):
        patterns.roughness(np.zeros(5))


def test_flat_change_spread_is_zero_for_a_colour_added_everywhere_and_the_chapters_formula():
    rng = np.random.default_rng(2)
    starts = rng.random((3, 12, 12, 3)).astype(np.float32)
    flat = starts + np.array([0.1, -0.2, 0.05], np.float32)  # the same colour added to every pixel
    textured = starts + 0.1 * rng.random((3, 12, 12, 3)).astype(np.float32)
    assert np.all(patterns.flat_change_spread(flat, starts) < 1e-4)
    spread = patterns.flat_change_spread(textured, starts)
    assert np.all(spread > 0.1)
    inner = (textured - starts)[:, 2:-2, 2:-2, :].astype(np.float64)
    expected = inner.std(axis=(1, 2)).max(axis=-1) / np.abs(inner.mean(axis=(1, 2))).max(axis=-1)
    np.testing.assert_allclose(spread, expected, rtol=1e-5)


def test_flat_change_spread_refuses_mismatched_or_too_wide_borders():
    starts = np.zeros((1, 6, 6, 3), np.float32)
    with pytest.raises(ValueError, match="border must be from 0 to 2"):
        patterns.flat_change_spread(starts + 0.1, starts, border=3)
    with pytest.raises(ValueError):
        patterns.flat_change_spread(np.zeros((1, 5, 6, 3), np.float32), starts)
