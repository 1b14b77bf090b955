"""Intermediate activations and the measures on them (convlens.measures.feature_maps and read_out): layer
choice, errors, display scaling, sparsity, probe, viewers, bad input."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from convlens import activations as act
from convlens import errors
from convlens import layers as lookup
from convlens.measures import feature_maps, read_out


@pytest.fixture(scope="module")
def tiny_model():
    """12x12x3 -> conv c1 (4) -> pool p1 -> conv c2 (6) -> flatten -> dense d; fixed weights."""
    from keras import layers

    inputs = keras.Input(shape=(12, 12, 3), name="image")
    x = layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    x = layers.MaxPooling2D(2, name="p1")(x)
    x = layers.Conv2D(6, 3, activation="relu", name="c2")(x)
    x = layers.Flatten(name="flat")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="d")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    rng = np.random.default_rng(0)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.5 for w in weights])
    # channel 3 of c1 can never fire: zero kernel, negative bias
    kernel, bias = model.get_layer("c1").get_weights()
    kernel[..., 3] = 0.0
    bias[3] = -1.0
    model.get_layer("c1").set_weights([kernel, bias])
    return model


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).random((5, 12, 12, 3)).astype(np.float32)


# ------------------------------------------------------------------ layer selection


def test_default_selection_is_every_conv_and_pooling_layer(tiny_model):
    assert [layer.name for layer in lookup.select_layers(tiny_model)] == ["c1", "p1", "c2"]
    assert lookup.conv_and_pooling_layer_names(tiny_model) == ["c1", "p1", "c2"]


def test_selection_by_name_index_and_type(tiny_model):
    names = lambda spec: [layer.name for layer in lookup.select_layers(tiny_model, spec)]  # noqa: E731
    assert names("p1") == ["p1"]
    assert names(["c2", "c1"]) == ["c1", "c2"]  # model order kept
    assert names(1) == ["c1"]  # model.layers[0] is the input layer
    assert names(-3) == ["c2"]
    assert names(keras.layers.Conv2D) == ["c1", "c2"]
    assert names("MaxPooling2D") == ["p1"]
    assert names(["c1", 1, keras.layers.MaxPooling2D]) == ["c1", "p1"]  # duplicates dropped


def test_unknown_layer_name_lists_the_valid_names(tiny_model):
    with pytest.raises(errors.LayerSelectionError) as info:
        lookup.select_layers(tiny_model, "conv2d_9")
    message = str(info.value)
    assert "'conv2d_9'" in message
    assert "Valid layer names with feature maps: c1, p1, c2" in message


def test_layers_without_feature_maps_and_bad_indices_are_refused(tiny_model):
    with pytest.raises(errors.LayerSelectionError, match=r"'d' \(Dense.*no feature maps.*c1, p1, c2"):
        lookup.select_layers(tiny_model, "d")
    with pytest.raises(errors.LayerSelectionError, match=r"index 42 is out of range.*0\.\.5"):
        lookup.select_layers(tiny_model, 42)
    with pytest.raises(errors.LayerSelectionError, match="no layer of type Dropout"):
        lookup.select_layers(tiny_model, keras.layers.Dropout)
    with pytest.raises(errors.LayerSelectionError, match="not a layer name"):
        lookup.select_layers(tiny_model, 1.5)


# ------------------------------------------------------------------ the activation model


def test_activation_model_has_one_output_per_layer_and_matches_each_layer(tiny_model, images):
    model = act.activation_model(tiny_model)
    assert len(model.outputs) == 3
    outputs = model(images, training=False)
    for layer, output in zip(["c1", "p1", "c2"], outputs, strict=True):
        single = keras.Model(tiny_model.inputs[0], tiny_model.get_layer(layer).output)
        np.testing.assert_allclose(np.asarray(output), np.asarray(single(images)), rtol=1e-5, atol=1e-6)


def test_get_activations_shapes_and_batching(tiny_model, images):
    acts = act.get_activations(tiny_model, images, batch_size=2)
    assert {k: v.shape for k, v in acts.items()} == {"c1": (5, 10, 10, 4), "p1": (5, 5, 5, 4), "c2": (5, 3, 3, 6)}
    one = act.get_activations(tiny_model, images[0])  # a single unbatched image
    np.testing.assert_allclose(one["c2"][0], acts["c2"][0], rtol=1e-5, atol=1e-6)
    assert act.layer_shapes(acts) == {"c1": (10, 10, 4), "p1": (5, 5, 4), "c2": (3, 3, 6)}


def test_channel_out_of_range_gives_the_valid_range(tiny_model, images):
    acts = act.get_activations(tiny_model, images[:1])
    assert act.channel_map(acts, "c2", 5).shape == (3, 3)
    with pytest.raises(errors.ChannelRangeError) as info:
        act.channel_map(acts, "c2", 6)
    expected = "Channel 6 is out of range for layer 'c2', which has 6 channels: choose a channel in 0..5."
    assert expected in str(info.value)
    with pytest.raises(errors.ChannelRangeError, match=r"0\.\.3"):
        act.channel_map(acts, "c1", -1)
    with pytest.raises(errors.LayerSelectionError, match="valid layer names: c1, p1, c2"):
        act.channel_map(acts, "dense", 0)


# ------------------------------------------------------------------ display scaling


def test_display_scale_is_chollets_standardization_and_blank_is_zero():
    ramp = np.arange(16, dtype=np.float32).reshape(4, 4)
    scaled = act.display_scale(ramp)
    expected = np.clip((ramp - ramp.mean()) / ramp.std() * 64 + 128, 0, 255).round()
    assert scaled.dtype == np.uint8
    np.testing.assert_array_equal(scaled, expected)
    for constant in (0.0, 3.7):
        blank = act.display_scale(np.full((5, 5), constant))
        assert blank.dtype == np.uint8 and not blank.any()
    # a stack: every channel scaled on its own; the blank one is zero
    stack = np.stack([ramp, np.zeros_like(ramp), 1000 * ramp], axis=-1)
    out = act.display_scale(stack)
    np.testing.assert_array_equal(out[..., 0], expected)
    np.testing.assert_array_equal(out[..., 2], expected)
    assert not out[..., 1].any()


def test_display_scale_clips_outliers():
    values = np.zeros((10, 10))
    values[0, 0] = 100.0  # one hot pixel: far beyond +2 standard deviations
    out = act.display_scale(values)
    assert out[0, 0] == 255 and out.min() > 0


# ------------------------------------------------------------------ sparsity


def test_blank_channel_statistic_on_a_hand_made_array():
    maps = np.ones((2, 3, 3, 4), dtype=np.float32)
    maps[0, :, :, 0] = 0.0
    maps[0, :, :, 2] = 0.0
    maps[1, :, :, 1] = 0.0
    maps[1, :, :, 3] = 0.0
    maps[1, 2, 2, 3] = 0.5  # one non-zero value: not blank
    np.testing.assert_array_equal(
        feature_maps.blank_channels(maps), [[True, False, True, False], [False, True, False, False]]
    )
    assert feature_maps.blank_channel_fraction(maps) == pytest.approx(3 / 8)
    by_class = feature_maps.blank_fraction_by_class({"layer": feature_maps.blank_channels(maps)}, np.array([0, 1]))
    assert by_class == {"layer": {0: 0.5, 1: 0.25}}


def test_blank_fraction_among_used_leaves_dead_channels_out():
    # 3 inputs x 4 channels: channel 0 is dead (blank for all), channel 3 fires on every input.
    blank = np.array([[True, True, False, False], [True, False, True, False], [True, True, True, False]])
    used = feature_maps.blank_fraction_among_used({"layer": blank, "dead": np.ones((3, 2), bool)})
    assert used["layer"] == pytest.approx(4 / 9)  # channels 1-3: 4 blank pairs of 9
    assert np.isnan(used["dead"])
    assert feature_maps.blank_fraction_by_class({"layer": blank}, np.zeros(3))["layer"][0] == pytest.approx(7 / 12)


def test_activation_statistics_in_batches_match_one_pass(tiny_model, images):
    stats = feature_maps.activation_statistics(tiny_model, images, batch_size=2)
    acts = act.get_activations(tiny_model, images)
    for name in ("c1", "p1", "c2"):
        np.testing.assert_array_equal(stats[name]["blank"], feature_maps.blank_channels(acts[name]))
        np.testing.assert_allclose(stats[name]["pooled"], acts[name].mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    assert stats["c1"]["blank"][:, 3].all()  # the dead channel is blank for every input
    assert stats["p1"]["blank"][:, 3].all()


# ------------------------------------------------------------------ linear probe


def test_linear_probe_separates_separable_data_and_not_noise():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 100)
    features = rng.normal(size=(200, 5))
    features[:, 2] += 4.0 * labels  # one informative feature
    train = np.arange(200) % 2 == 0
    accuracy = feature_maps.linear_probe_accuracy(features[train], labels[train], features[~train], labels[~train])
    assert accuracy > 0.95
    noise = rng.normal(size=(400, 5))
    noise_labels = rng.integers(0, 2, size=400)
    chance = feature_maps.linear_probe_accuracy(noise[:200], noise_labels[:200], noise[200:], noise_labels[200:])
    assert 0.35 < chance < 0.65
    with pytest.raises(ValueError, match="two classes"):
        feature_maps.linear_probe_accuracy(features, np.zeros(200), features, labels)


def test_probe_by_layer_uses_the_mask(tiny_model, images):
    stats = feature_maps.activation_statistics(tiny_model, np.concatenate([images, images[::-1]]))
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    mask = np.arange(10) < 6
    result = feature_maps.probe_by_layer(stats, labels, mask)
    assert set(result) == {"c1", "p1", "c2"}
    for name, pooled in ((name, stats[name]["pooled"]) for name in result):  # the probe of each layer's features
        expected = feature_maps.linear_probe_accuracy(pooled[mask], labels[mask], pooled[~mask], labels[~mask])
        assert result[name] == expected
    # Known answers: a feature equal to the label is read perfectly; a feature the same for all inputs
    # gives one class for every test input, so half of the balanced test set is right.
    known = {"label": {"pooled": labels[:, None] + 0.01 * np.arange(10)[:, None] % 3},
             "constant": {"pooled": np.ones((10, 2))}}
    assert feature_maps.probe_by_layer(known, labels, mask) == {"label": 1.0, "constant": 0.5}
    with pytest.raises(ValueError, match="train_mask"):
        feature_maps.probe_by_layer(stats, labels, np.ones(10, dtype=bool))


# ------------------------------------------------------------------ what the maps keep


def _identity_then_pool_model():
    from keras import layers

    inputs = keras.Input(shape=(16, 16, 3))
    ident = layers.Conv2D(3, 1, activation="relu", name="ident")(inputs)
    pooled = layers.MaxPooling2D(4, name="pool4")(ident)
    model = keras.Model(inputs, layers.Flatten()(pooled))
    model.get_layer("ident").set_weights([np.eye(3, dtype=np.float32)[None, None], np.zeros(3, np.float32)])
    return model


def test_maps_at_pixels_aligns_centres():
    maps = np.arange(4 * 4, dtype=np.float32).reshape(1, 4, 4, 1)
    same = read_out.maps_at_pixels(maps, 4, 1)
    np.testing.assert_array_equal(same, maps)
    # a valid 3x3 convolution of a 6x6 image: cell 0 is centred on pixel 1
    inner = read_out.maps_at_pixels(maps, 6, 1)
    np.testing.assert_array_equal(inner[0, 1:5, 1:5, 0], maps[0, :, :, 0])
    np.testing.assert_array_equal(read_out.maps_at_pixels(maps, 6, 1, pixel_step=2)[0, :, :, 0], inner[0, ::2, ::2, 0])
    assert read_out.cumulative_stride(_identity_then_pool_model(), "pool4") == 4


def test_reconstruction_r2_is_one_for_an_identity_layer_and_lower_after_pooling():
    model = _identity_then_pool_model()
    rng = np.random.default_rng(3)
    images = rng.random((6, 16, 16, 3)).astype(np.float32)
    r2 = read_out.reconstruction_r2(model, images[:3], images[3:], l2=1e-9)
    assert r2["ident"] > 0.999
    assert read_out.reconstruction_r2(model, images[:3], images[3:], l2=1e-9, pixel_step=3)["ident"] > 0.999
    assert r2["pool4"] < 0.5  # random pixels cannot be read back from a 4x4 max-pool


def test_edge_correlations_find_the_edge_filters():
    from keras import layers

    inputs = keras.Input(shape=(20, 20, 3))
    conv = layers.Conv2D(2, 3, activation="relu", name="edges")(inputs)
    model = keras.Model(inputs, conv)
    derivative = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])  # d/dy: horizontal edges
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    for c in range(3):
        kernel[:, :, c, 0] = derivative
        kernel[:, :, c, 1] = derivative.T
    model.get_layer("edges").set_weights([kernel, np.zeros(2, np.float32)])
    rng = np.random.default_rng(4)
    blocks = rng.random((4, 5, 5, 1)).repeat(4, axis=1).repeat(4, axis=2).repeat(3, axis=3).astype(np.float32)
    corr = read_out.edge_correlations(model, blocks)
    assert corr["horizontal edges"][0] > 0.4 and corr["horizontal edges"][0] > corr["vertical edges"][0]
    assert corr["vertical edges"][1] > 0.4 and corr["vertical edges"][1] > corr["horizontal edges"][1]
    # Keras convolutions are cross-correlations: top row minus bottom row fires where it is lighter above
    assert corr["horizontal edges polarity"][0] == 1 and corr["vertical edges polarity"][1] == 1
    assert corr["horizontal edges, lighter above"][0] > corr["horizontal edges, lighter below"][0]


# ------------------------------------------------------------------ viewers and figures


def test_static_pager_holds_one_image_per_channel(tiny_model, images):
    from convlens.widgets.activations import activation_pager_html

    acts = act.get_activations(tiny_model, images[:1])
    page = activation_pager_html(acts)
    assert len(re.findall(r"<img ", page)) == 4 + 4 + 6
    assert page.count("data:image/png;base64,") == 14
    assert "c2 (3 x 3 x 6)" in page and "c2, channel 5 of 0..5" in page
    assert "<script src" not in page  # self-contained


def test_explorer_caches_the_forward_pass_per_photo(tiny_model, images):
    import matplotlib.pyplot as plt

    from convlens.widgets.activations import ActivationExplorer

    explorer = ActivationExplorer(tiny_model, {"first": images[0], "second": images[1:2]})
    assert explorer.forward_passes == 1
    explorer.layer.value = "c2"
    assert explorer.channel.max == 5
    explorer.channel.value = 4
    explorer.layer.value = "c1"
    assert explorer.channel.max == 3 and explorer.channel.value == 3
    assert explorer.forward_passes == 1
    explorer.photo.value = "second"
    explorer.photo.value = "first"
    assert explorer.forward_passes == 2
    explorer.path.value = "/no/such/photo.jpg"
    explorer._on_path()
    assert "No such image file" in explorer.message.value and explorer.forward_passes == 2
    plt.close("all")


def test_explorer_loads_a_typed_path(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image

    from convlens.widgets.activations import ActivationExplorer

    inputs = keras.Input(shape=(150, 150, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(inputs))
    photo = tmp_path / "typed.png"
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(photo)
    explorer = ActivationExplorer(model, {"zeros": np.zeros((150, 150, 3), np.float32)})
    explorer.path.value = str(photo)
    explorer._on_path()
    assert explorer.photo.value == "typed.png" and explorer.forward_passes == 2
    assert explorer.cache["typed.png"][1]["c"].shape == (1, 148, 148, 2)
    plt.close("all")


def test_figures_are_titled_and_refuse_bad_channels(tiny_model, images):
    import matplotlib.pyplot as plt

    from convlens.plotting import activations as plot

    acts = act.get_activations(tiny_model, images[:1])
    fig = plot.plot_layer(acts, "c1", ncols=2)
    assert fig._suptitle.get_text().startswith("c1: 10 x 10 x 4, 1 of 4 channels blank")
    assert fig.axes[0].get_title().startswith("#0")  # one tile per channel, titled by its number
    image = fig.axes[0].images[0].get_array()
    assert not np.isnan(image.compressed()).any()
    fig = plot.plot_channel(acts, "c2", 0)
    assert fig.axes[0].get_title() == "c2, channel 0 (3 x 3)"
    with pytest.raises(errors.ChannelRangeError):
        plot.plot_channel(acts, "c2", 99)
    diagram = plot.method_diagram(["c1", "p1", "c2"], act.layer_shapes(acts))
    texts = [text.get_text() for text in diagram.axes[0].texts]
    assert "A_3 = c2" in texts and "S_3 (3, 3, 6)" in texts  # one box per layer, with its shape
    bars = plot.plot_sparsity({"c1": {0: 0.2, 1: 0.3}, "p1": {0: 0.4, 1: 0.1}}).axes[0].patches
    assert [round(bar.get_height(), 6) for bar in bars] == [0.2, 0.4, 0.3, 0.1]  # cats' bars, then dogs'
    plt.close("all")


# ------------------------------------------------------------------ bad input (issue 11)


@pytest.mark.parametrize(
    ("photo", "match"),
    [
        ((np.random.default_rng(0).random((12, 12, 3)) * 255).astype(np.uint8), "divide 0-255 values by 255"),
        (np.full((1, 12, 12, 3), np.nan, np.float32), "NaN"),
        (np.full((1, 12, 12, 3), 342.0, np.float32), r"\[0, 1\]"),
        (np.zeros((0, 12, 12, 3), np.float32), "empty"),
        (np.zeros((1, 10, 10, 3), np.float32), r"Expected images of shape \(N, 12, 12, 3\)"),
    ],
)
def test_activation_functions_refuse_what_the_model_does_not_take(tiny_model, photo, match):
    from convlens.errors import InputImageError

    with pytest.raises(InputImageError, match=match):
        act.get_activations(tiny_model, photo)
    with pytest.raises(InputImageError, match=match):
        feature_maps.activation_statistics(tiny_model, photo)


def test_batch_size_must_be_a_positive_whole_number(tiny_model, images):
    from convlens.errors import ArgumentError, ArgumentTypeError

    with pytest.raises(ArgumentError, match="batch_size must be 1 or more; got 0"):
        act.get_activations(tiny_model, images, batch_size=0)
    with pytest.raises(ArgumentTypeError, match="batch_size must be a whole number"):
        act.get_activations(tiny_model, images, batch_size=2.5)


def test_layer_channels_names_the_valid_layers_and_images(tiny_model, images):
    acts = act.get_activations(tiny_model, images[:2])
    assert len(act.layer_channels(acts, "c2", index=1)) == 6
    with pytest.raises(errors.LayerSelectionError, match="'dense'; valid layer names: c1, p1, c2"):
        act.layer_channels(acts, "dense")
    with pytest.raises(IndexError, match=r"Image index 5 is out of range: the batch holds images 0\.\.1"):
        act.layer_channels(acts, "c1", index=5)
    with pytest.raises(IndexError, match=r"Image index 2 is out of range"):
        act.channel_map(acts, "c1", 0, index=2)


def test_dead_channels_match_the_activations_and_follow_changed_weights(tiny_model, images):
    def expected(model):
        acts = act.get_activations(model, images)
        return {name: np.flatnonzero(acts[name].max(axis=(0, 1, 2)) <= 0) for name in ("c1", "c2")}

    found = feature_maps.dead_channels(tiny_model, images, batch_size=2)
    assert {k: v.tolist() for k, v in found.items()} == {k: v.tolist() for k, v in expected(tiny_model).items()}
    kernel, bias = tiny_model.get_layer("c1").get_weights()
    killed_kernel, killed_bias = kernel.copy(), bias.copy()
    killed_kernel[..., 2], killed_bias[2] = 0.0, -1.0  # channel 2 of c1 can no longer fire
    tiny_model.get_layer("c1").set_weights([killed_kernel, killed_bias])
    try:
        found = feature_maps.dead_channels(tiny_model, images, batch_size=2)  # the changed weights are read
        assert 2 in found["c1"].tolist()
        assert {k: v.tolist() for k, v in found.items()} == {k: v.tolist() for k, v in expected(tiny_model).items()}
        census = feature_maps.dead_channel_census(tiny_model, (images * 255).astype(np.uint8), ["c1"])
        assert census == {"c1": len(expected(tiny_model)["c1"])}
    finally:
        tiny_model.get_layer("c1").set_weights([kernel, bias])
