"""Hand-written numerics replaced by their library's (issue 28): the same numbers as the old formulas.

``heatmaps.curve_area`` is ``scipy.integrate.trapezoid``; ``read_out._pearson`` is ``np.corrcoef``.
Each is compared with the formula it replaced, on cases where a slip (a missing half, a mean not
subtracted, a transposed axis) would show.
"""

from __future__ import annotations

import numpy as np
import pytest

from convlens.measures import heatmaps, read_out


def old_curve_area(fractions, values):
    """The trapezoidal rule as convlens wrote it by hand before."""
    x = np.asarray(fractions, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    areas = np.sum((x[1:] - x[:-1]) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)
    return float(areas) if y.ndim == 1 else areas


def old_pearson(a, b):
    """Pearson's r as convlens wrote it by hand before (0 for a constant map)."""
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0


def test_curve_area_is_the_old_trapezoid():
    rng = np.random.default_rng(0)
    fractions = np.sort(np.concatenate([[0.0, 1.0], rng.random(9)]))  # uneven steps
    curves = rng.random((4, len(fractions)))
    np.testing.assert_allclose(heatmaps.curve_area(fractions, curves), old_curve_area(fractions, curves), rtol=1e-12)
    one = heatmaps.curve_area(fractions, curves[0])
    assert isinstance(one, float) and one == pytest.approx(old_curve_area(fractions, curves[0]), rel=1e-12)
    assert heatmaps.curve_area([0.0, 0.5, 1.0], [1.0, 0.0, 1.0]) == pytest.approx(0.5)


def test_pearson_is_the_old_formula():
    rng = np.random.default_rng(1)
    a = rng.random((7, 9))
    b = 0.3 * a + rng.random((7, 9)) + 5.0  # correlated, with an offset that a missing mean would show
    assert read_out._pearson(a, b) == pytest.approx(old_pearson(a, b), abs=1e-12)
    assert read_out._pearson(a, -a) == pytest.approx(-1.0)
    assert read_out._pearson(a, np.full_like(a, 0.25)) == 0.0 == old_pearson(a, np.full_like(a, 0.25))
