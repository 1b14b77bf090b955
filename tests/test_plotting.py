"""The figures read at the book's column width: text >= 9 px, tiles >= 96 px, one scale per grid.

Every figure function of ``convlens.plotting`` is drawn on small synthetic inputs and measured
through its stamp (``convlens.plotting.stamp``): the figure, saved as the inline backend saves
it, writes its smallest text and smallest tile (in pixels of the image file) into the file; the
sizes are then shrunk as the book shrinks a figure wider than its 688 px column
(``common.smallest_text_px``, ``common.smallest_tile_px``). The browser test reads the same
stamps from the built book's images (tests/test_browser.py).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convlens import errors  # noqa: E402
from convlens.plotting import activations as plot_act  # noqa: E402
from convlens.plotting import common, stamp  # noqa: E402
from convlens.plotting import filters as plot_filters  # noqa: E402
from convlens.plotting import gradcam as plot_cam  # noqa: E402

MIN_PX = 9.0
MIN_TILE = 96.0
RNG = np.random.default_rng(0)
LAYERS = ["conv2d_1", "max_pooling2d_1", "conv2d_2", "max_pooling2d_2", "conv2d_3", "max_pooling2d_3",
          "conv2d_4", "max_pooling2d_4"]
SRC = Path(__file__).resolve().parents[1] / "src" / "convlens"


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


def _gradcam_figures():
    photos = RNG.random((3, 150, 150, 3)).astype(np.float32)
    heat = RNG.random((3, 15, 15)).astype(np.float32)
    yield "heatmap_and_overlay", lambda: plot_cam.heatmap_and_overlay(photos[0], heat[0], "full: Grad-CAM", "conv2d_4")
    yield "overlay", lambda: plot_cam.overlay(photos[0], heat[0], title="one photo")
    yield "overlay_grid", lambda: plot_cam.overlay_grid(photos, heat, ["a", "b", "c"], suptitle="best")
    yield "comparison_grid", lambda: plot_cam.comparison_grid(
        photos, {"Grad-CAM": heat, "Grad-CAM++": heat}, row_titles=["x", "y", "z"], suptitle="methods")
    yield "deletion_plot", lambda: plot_cam.deletion_plot([0, 0.5, 1], {"Grad-CAM": [0.9, 0.5, 0.1],
                                                                        "random": [0.9, 0.7, 0.1]})
    yield "correlation_histogram", lambda: plot_cam.correlation_histogram({"random": RNG.uniform(-1, 1, 50)})


def _figures():
    maps = _maps()
    photo = RNG.random((150, 150, 3)).astype(np.float32)
    correlations = {kind: RNG.random(32) for kind in ("intensity", "horizontal edges", "vertical edges")}
    correlations.update({f"{kind} polarity": RNG.integers(0, 2, 32)
                         for kind in ("horizontal edges", "vertical edges")})
    yield "show_input", lambda: plot_act.show_input(photo, "The first validation cat, as the model sees it")
    yield "method_diagram", lambda: plot_act.method_diagram(LAYERS, {n: m.shape[1:] for n, m in maps.items()})
    yield "plot_channel", lambda: plot_act.plot_channel(maps, "conv2d_1", 21)
    for name in ("conv2d_1", "conv2d_3", "max_pooling2d_4"):
        yield f"plot_layer {name}", lambda name=name: plot_act.plot_layer(maps, name)
    yield "plot_layer 32 channel-scaled", lambda: plot_act.plot_layer(maps, "conv2d_4", 32, scale="channel")
    yield "plot_layer chosen", lambda: plot_act.plot_layer(maps, "conv2d_2", [3, 1, 40])
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
    yield "pattern_grid 16", lambda: plot_filters.pattern_grid(
        _patterns(16), "block4_conv1", range(16), suptitle="VGG16 (ImageNet): block4_conv1")
    yield "compare_patterns", lambda: plot_filters.compare_patterns(
        {"naive": patterns[:6], "jitter + blur": patterns[6:12]}, range(6),
        "conv2d_4: naive gradient ascent vs regularized\n(same start, same 40 steps)",
        captions={"naive": ["act 0.78"] * 6, "jitter + blur": ["act 0.25"] * 6})
    yield "compare_patterns pair", lambda: plot_filters.compare_patterns(
        {"conv2d_4\n(convolution)": patterns[:2], "max_pooling2d_4\n(after pooling)": patterns[2:4]}, [3, 4],
        "Filters 3 and 4 of the last layer,\nafter the convolution and after pooling")
    yield "compare_pattern_grids", lambda: plot_filters.compare_pattern_grids(
        {"conv": patterns[:12], "pool": patterns[:12]}, range(12), "The first 12 filters of conv2d_4 and pooling")
    yield "activation_bars", lambda: plot_filters.activation_bars(
        {"naive": RNG.random(6), "jitter + blur": RNG.random(6)}, range(6), "Mean activation per filter")
    yield "image_grid", lambda: common.image_grid(
        [RNG.random((15, 15)) for _ in range(20)], suptitle="conv2d_4, one colour scale", vmin=0, vmax=1,
        colorbar_label="activation")
    yield "show_photos", lambda: common.show_photos(RNG.random((6, 150, 150, 3)), [f"cat {i}" for i in range(6)])
    yield "training_curves", lambda: common.training_curves(
        {"dataaug": {"history": [{"epoch": e, "accuracy": 0.5, "val_accuracy": 0.5, "loss": 1.0, "val_loss": 1.0}
                                 for e in range(1, 4)]}})
    yield from _gradcam_figures()


FIGURES = list(_figures())


def _measure(make, measure):
    fig = make()
    try:
        return measure(fig)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("name", "make"), FIGURES, ids=[name for name, _ in FIGURES])
def test_figure_text_is_at_least_9px_at_column_width(name, make):
    smallest = _measure(make, common.smallest_text_px)
    assert smallest >= MIN_PX, f"{name}: smallest text {smallest:.1f} px at the book's column width"


@pytest.mark.parametrize(("name", "make"), FIGURES, ids=[name for name, _ in FIGURES])
def test_figure_tiles_are_at_least_96px_at_column_width(name, make):
    """Every figure function stamps its figure; each tile (channel, pattern, photo) is >= 96 px."""
    fig = make()
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=common.FIGURE_DPI, bbox_inches="tight")
        assert stamp.read_stamp(buffer.getvalue()) is not None, f"{name}: the figure has no stamp"
        smallest = common.smallest_tile_px(fig)
    finally:
        plt.close(fig)
    assert smallest >= MIN_TILE, f"{name}: smallest tile {smallest:.0f} px at the book's column width"


def test_the_measures_can_fail():
    """A wide figure with small text, and a grid of 16 columns, measure under the limits."""
    fig, ax = plt.subplots(figsize=(16, 3))
    ax.set_title("small", fontsize=7)
    try:
        assert common.smallest_text_px(fig) < MIN_PX
    finally:
        plt.close(fig)
    crowded = common.image_grid([RNG.random((15, 15)) for _ in range(32)], ncols=16)
    try:
        assert common.smallest_tile_px(crowded) < MIN_TILE
    finally:
        plt.close(crowded)


@pytest.mark.parametrize("columns", [common.MAX_COLUMNS, common.MAX_COLUMNS + 1])
def test_max_columns_is_the_most_that_stay_legible(columns):
    fig = common.image_grid([RNG.random((15, 15)) for _ in range(2 * columns)], [f"#{i}" for i in range(2 * columns)],
                            ncols=columns, vmin=0, vmax=1, colorbar_label="one scale")
    try:
        assert (common.smallest_tile_px(fig) >= MIN_TILE) == (columns <= common.MAX_COLUMNS)
    finally:
        plt.close(fig)


def test_grid_columns_chooses_few_rows_then_few_gaps():
    assert [common.grid_columns(n) for n in (3, 6, 7, 8, 12, 16, 32, 128)] == [3, 6, 4, 4, 6, 6, 6, 6]
    assert common.grid_columns(10, ncols=4) == 4 and common.grid_columns(2, ncols=6) == 2
    with pytest.raises(errors.ArgumentError):
        common.grid_columns(10, ncols=0)


# ----------------------------------------------------------------------- the stamp


def _tile_figure(columns: int):
    fig, axes = plt.subplots(1, columns, figsize=(columns * 1.2, 1.6))
    for ax in axes.flat:
        stamp.mark_tiles(ax.imshow(RNG.random((8, 8))))
        ax.set_title("#1", fontsize=9)
    return fig


@pytest.mark.parametrize("fmt", ["png", "jpeg", "retina"])
def test_the_stamp_survives_the_inline_backend(fmt):
    """IPython's print_figure (what the inline backend stores in a notebook) carries the stamp."""
    from IPython.core.pylabtools import print_figure

    fig = _tile_figure(3)
    try:
        record = stamp.read_stamp(print_figure(fig, fmt))
    finally:
        plt.close(fig)
    scale = 2 if fmt == "retina" else 1
    assert record["tiles"] == 3 and record["text_px"] == pytest.approx(9 * 100 / 72 * scale, abs=0.1)
    assert 80 * scale < record["tile_px"] < 125 * scale  # 1.2 inches a tile, less the gaps


def test_a_mosaic_tile_is_its_share_of_the_image():
    fig, ax = plt.subplots(figsize=(4, 4))
    fig.subplots_adjust(0, 0, 1, 1)
    ax.set_axis_off()
    stamp.stamp(fig)
    stamp.mark_tiles(ax.imshow(RNG.random((40, 40))), across=4, down=4)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    assert stamp.read_stamp(buffer.getvalue())["tile_px"] == pytest.approx(100, abs=1)
    with pytest.raises(errors.ArgumentError):
        stamp.mark_tiles(None, across=0)


def test_unstamped_and_foreign_images_have_no_stamp():
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    assert stamp.read_stamp(buffer.getvalue()) is None
    assert stamp.read_stamp(b"not an image") is None


def test_judge_scales_the_stamp_by_the_page():
    record = {"tile_px": 120.0, "text_px": 12.5}
    assert stamp.judge(record, natural_width=700, rendered_width=700) == []
    shrunk = stamp.judge(record, natural_width=1000, rendered_width=700)  # 84 px tiles, 8.75 px text
    assert len(shrunk) == 2 and "tiles 84 px" in shrunk[0] and "text 8.8 px" in shrunk[1]
    assert stamp.judge({"tile_px": None, "text_px": 12.5}, 500, 500) == []
    assert "no convlens stamp" in stamp.judge(None, 500, 500)[0]


# ----------------------------------------------------------------------- one scale per activation grid


def test_activation_grids_use_one_viridis_scale_and_state_it():
    maps = _maps()
    scale = plot_act.layer_scale(maps, "conv2d_3")
    values = maps["conv2d_3"][0]
    assert scale.low == 0 and scale.high == pytest.approx(np.percentile(values, 99.5))
    assert scale.peak == pytest.approx(values.max()) and f"{scale.high:.3g}" in scale.caption
    assert "dark purple" in scale.caption and "99.5th percentile" in scale.caption
    fig = plot_act.plot_layer(maps, "conv2d_3", channels=[0, 1, 2, 5])
    try:
        tiles = [ax.images[0] for ax in fig.axes if ax.images]
        assert len(tiles) == 4 and {image.get_cmap().name for image in tiles} == {"viridis"}
        assert {image.get_clim() for image in tiles} == {(0.0, scale.high)}  # zero: one colour everywhere
        assert [ax.get_title() for ax in fig.axes[:4]] == ["#0 blank", "#1", "#2", "#5 blank"]
        assert scale.label in fig.axes[-1].get_xlabel()  # the colour bar says the scale
        assert "26 of 128 channels blank" in fig._suptitle.get_text()
    finally:
        plt.close(fig)
    assert plot_act.layer_scale(maps, "conv2d_3", percentile=100).rule == "the largest value"
    blank = {"c": np.zeros((1, 4, 4, 2), np.float32)}
    assert (plot_act.layer_scale(blank, "c").low, plot_act.layer_scale(blank, "c").high) == (0.0, 1.0)


def test_plot_layer_refuses_bad_choices():
    maps = _maps()
    with pytest.raises(errors.ChannelRangeError):
        plot_act.plot_layer(maps, "conv2d_1", [0, 32])
    with pytest.raises(errors.ArgumentError):
        plot_act.plot_layer(maps, "conv2d_1", 0)
    with pytest.raises(errors.ArgumentError, match="scale"):
        plot_act.plot_layer(maps, "conv2d_1", scale="per-photo")
    with pytest.raises(errors.LayerSelectionError):
        plot_act.plot_layer(maps, "dense")
    with pytest.raises(errors.ArgumentError):
        plot_act.layer_scale(maps, "conv2d_1", percentile=0)
    plt.close("all")


def test_activation_figures_use_viridis():
    maps = _maps()
    fig = plot_act.plot_channel(maps, "conv2d_1", 1)
    try:
        assert fig.axes[0].images[0].get_cmap().name == "viridis"
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------- Grad-CAM: the lecture's look


def test_lecture_blend_is_jet_at_one_opacity():
    photo = np.full((20, 20, 3), 0.5, np.float32)
    heat = np.zeros((20, 20), np.float32)
    heat[:10] = 1.0
    blended = plot_cam.lecture_blend(photo, heat)
    jet = matplotlib.colormaps["jet"]
    np.testing.assert_allclose(blended[15, 5], 0.6 * 0.5 + 0.4 * np.array(jet(0.0)[:3]), atol=1e-5)  # cold: tinted
    np.testing.assert_allclose(blended[2, 5], 0.6 * 0.5 + 0.4 * np.array(jet(1.0)[:3]), atol=1e-5)  # hot: same opacity
    assert plot_cam.GRADCAM_CMAP == "jet" and plot_cam.GRADCAM_ALPHA == 0.4


def test_gradcam_figure_shows_the_heatmap_alone_beside_the_overlay_with_a_colour_bar():
    photo = RNG.random((90, 120, 3)).astype(np.float32)
    heat = RNG.random((15, 15)).astype(np.float32)
    fig = plot_cam.heatmap_and_overlay(photo, heat, layer="conv2d_4")
    try:
        raw, over, bar = fig.axes
        assert raw.images[0].get_array().shape == (15, 15) and raw.images[0].get_cmap().name == "jet"
        assert over.images[0].get_array().shape[:2] == (90, 120)
        np.testing.assert_allclose(over.images[0].get_array(), plot_cam.lecture_blend(photo, heat), atol=1e-6)
        assert "importance" in bar.get_ylabel()
    finally:
        plt.close(fig)


def test_gradcam_figures_refuse_bad_input_clearly():
    photo = RNG.random((20, 20, 3)).astype(np.float32)
    heat = RNG.random((5, 5)).astype(np.float32)
    with pytest.raises(errors.InputImageError, match="divide 0-255"):
        plot_cam.lecture_blend(photo * 255, heat)
    with pytest.raises(errors.InputImageError, match="RGB"):
        plot_cam.overlay(photo[..., 0], heat)
    with pytest.raises(errors.ArgumentError, match="alpha"):
        plot_cam.blend(photo, heat, alpha=2)
    with pytest.raises(errors.ArgumentError, match="2 photos and 1 heatmaps"):
        plot_cam.overlay_grid([photo] * 2, [heat])
    with pytest.raises(errors.ArgumentError, match="in column 'b'"):
        plot_cam.comparison_grid([photo] * 2, {"a": [heat] * 2, "b": [heat]})
    with pytest.raises(errors.ArgumentError, match="at least one photo"):
        plot_cam.comparison_grid([], {"a": []})


def test_grids_refuse_mismatched_titles_and_indices():
    with pytest.raises(errors.ArgumentError, match="at least one image"):
        common.image_grid([])
    with pytest.raises(errors.ArgumentError, match="3 images but 2 titles"):
        common.image_grid([RNG.random((4, 4))] * 3, ["a", "b"])
    with pytest.raises(errors.ArgumentError, match="one index per pattern"):
        plot_filters.pattern_grid(_patterns(3), "c", range(2))
    with pytest.raises(errors.ArgumentError, match="row 'b'"):
        plot_filters.compare_patterns({"a": _patterns(2), "b": _patterns(1)}, [0, 1], "t")
    with pytest.raises(errors.ArgumentError, match="grid 'b'"):
        plot_filters.compare_pattern_grids({"a": _patterns(2), "b": _patterns(1)}, [0, 1], "t")


# ----------------------------------------------------------------------- issue 20 in plotting/ and widgets/


def _own_sources():
    return sorted([*SRC.joinpath("plotting").glob("*.py"), *SRC.joinpath("widgets").glob("*.py")])


def test_drawing_packages_raise_only_convlens_errors():
    plain = re.compile(r"raise (ValueError|TypeError|IndexError)\b")
    found = [f"{path.name}:{n}" for path in _own_sources()
             for n, line in enumerate(path.read_text().splitlines(), 1) if plain.search(line)]
    assert not found, f"plain built-in raises (use convlens.errors): {found}"
