"""The figures of chapters 2 and 3 read at the book's column width.

Every figure function of ``convlens.plotting.activations``, ``plotting.filters`` and the shared
``plotting.common`` is drawn on small synthetic inputs and measured with
``common.smallest_text_px``: the smallest visible text, in pixels, once the figure (saved as
the inline backend saves it) is shrunk into the 784 px column. It must be at least 9 px. The
browser test checks the other half on the built book: that no figure is shrunk more than this
measure allows (tests/test_browser.py).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convlens.plotting import activations as plot_act  # noqa: E402
from convlens.plotting import common  # noqa: E402
from convlens.plotting import filters as plot_filters  # noqa: E402

MIN_PX = 9.0
RNG = np.random.default_rng(0)
LAYERS = ["conv2d_1", "max_pooling2d_1", "conv2d_2", "max_pooling2d_2", "conv2d_3", "max_pooling2d_3",
          "conv2d_4", "max_pooling2d_4"]


def _maps() -> dict[str, np.ndarray]:
    shapes = {"conv2d_1": (148, 32), "max_pooling2d_1": (74, 32), "conv2d_2": (72, 64),
              "max_pooling2d_2": (36, 64), "conv2d_3": (34, 128), "max_pooling2d_3": (17, 128),
              "conv2d_4": (15, 128), "max_pooling2d_4": (7, 128)}
    maps = {}
    for name, (size, channels) in shapes.items():
        values = np.maximum(RNG.normal(size=(1, size, size, channels)), 0).astype(np.float32)
        values[..., ::5] = 0  # some blank channels
        maps[name] = values
    return maps


def _patterns(count: int) -> np.ndarray:
    return RNG.integers(0, 255, size=(count, 40, 40, 3), dtype=np.uint8)


def _figures():
    maps = _maps()
    photo = RNG.random((150, 150, 3)).astype(np.float32)
    correlations = {kind: RNG.random(32) for kind in ("intensity", "horizontal edges", "vertical edges")}
    correlations.update({f"{kind} polarity": RNG.integers(0, 2, 32)
                         for kind in ("horizontal edges", "vertical edges")})
    yield "show_input", lambda: plot_act.show_input(photo, "The first validation cat, as the model sees it")
    yield "method_diagram", lambda: plot_act.method_diagram(LAYERS, {n: m.shape[1:] for n, m in maps.items()})
    yield "plot_channel", lambda: plot_act.plot_channel(maps, "conv2d_1", 21)
    for name in ("conv2d_1", "conv2d_4"):
        yield f"plot_layer {name}", lambda name=name: plot_act.plot_layer(maps, name)
    fractions = {name: {0: RNG.random(), 1: RNG.random()} for name in LAYERS}
    yield "plot_sparsity", lambda: plot_act.plot_sparsity(fractions, ("cats", "dogs"), {0: 150, 1: 150})
    probe = {name: 0.5 + 0.3 * RNG.random() for name in LAYERS}
    yield "plot_layer_measures", lambda: plot_act.plot_layer_measures(probe, dict(probe), input_probe=0.52)
    yield "plot_edge_channels", lambda: plot_act.plot_edge_channels(photo, maps, "conv2d_1", correlations)
    patterns = _patterns(32)
    yield "show_pattern", lambda: plot_filters.show_pattern(patterns[0], "conv2d_4", 3)
    yield "pattern_grid", lambda: plot_filters.pattern_grid(
        patterns, "conv2d_1", range(32), silent=[i % 3 == 0 for i in range(32)],
        mark="silent on its start: pre-activation objective")
    yield "pattern_grid 64", lambda: plot_filters.pattern_grid(
        _patterns(64), "block4_conv1", range(64), suptitle="VGG16 (ImageNet): block4_conv1")
    yield "compare_patterns", lambda: plot_filters.compare_patterns(
        {"naive": patterns[:6], "jitter + blur": patterns[6:12]}, range(6),
        "conv2d_4: naive gradient ascent vs regularized\n(same start, same 40 steps)",
        captions={"naive": ["act 0.78"] * 6, "jitter + blur": ["act 0.25"] * 6})
    yield "compare_patterns pair", lambda: plot_filters.compare_patterns(
        {"conv2d_4\n(convolution)": patterns[:2], "max_pooling2d_4\n(after pooling)": patterns[2:4]}, [3, 4],
        "Filters 3 and 4 of the last layer,\nafter the convolution and after pooling")
    yield "compare_pattern_grids", lambda: plot_filters.compare_pattern_grids(
        {"conv": patterns, "pool": patterns}, range(32), "The first 32 filters of conv2d_4 and max_pooling2d_4")
    yield "activation_bars", lambda: plot_filters.activation_bars(
        {"naive": RNG.random(6), "jitter + blur": RNG.random(6)}, range(6), "Mean activation per filter")
    yield "image_grid 16", lambda: common.image_grid(
        [RNG.random((15, 15)) for _ in range(128)], ncols=16, suptitle="conv2d_4, one colour scale")
    yield "show_photos", lambda: common.show_photos(RNG.random((6, 150, 150, 3)), [f"cat {i}" for i in range(6)])


@pytest.mark.parametrize(("name", "make"), list(_figures()), ids=[name for name, _ in _figures()])
def test_figure_text_is_at_least_9px_at_column_width(name, make):
    fig = make()
    try:
        smallest = common.smallest_text_px(fig)
    finally:
        plt.close(fig)
    assert smallest >= MIN_PX, f"{name}: smallest text {smallest:.1f} px at the book's column width"


def test_the_measure_can_fail():
    """A wide figure with small text measures under 9 px (the check is not vacuous)."""
    fig, ax = plt.subplots(figsize=(16, 3))
    ax.set_title("small", fontsize=7)
    try:
        assert common.smallest_text_px(fig) < MIN_PX
    finally:
        plt.close(fig)


def test_activation_figures_use_viridis():
    maps = _maps()
    fig = plot_act.plot_channel(maps, "conv2d_1", 1)
    try:
        assert fig.axes[0].images[0].get_cmap().name == "viridis"
    finally:
        plt.close(fig)
