"""Filter patterns by gradient ascent: batched = one by one, patterns excite their filter, clear errors."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from testkit import centred_tiny_convnet

from convlens import adapters, filters
from convlens import layers as lookup
from convlens.measures import patterns

SIZE = 32


@pytest.fixture(scope="module")
def tiny_model():
    """Input -> conv (6) -> pool -> conv (8) -> pool -> dense (sigmoid): small, fast, random."""
    return centred_tiny_convnet(SIZE, seed=1)


def live_filters(model, layer: str, count: int) -> list[int]:
    """Filters that fire on their start image (a silent one has no gradient under the lecture's loss)."""
    total = int(model.get_layer(layer).output.shape[-1])
    starts = np.stack([filters.start_image(i, 0, SIZE) for i in range(total)])
    acts = filters.mean_filter_activations(model, layer, starts, range(total))
    live = [int(i) for i in np.flatnonzero(acts > 0)]
    assert len(live) >= count, f"only {len(live)} live filters in {layer}"
    return live[:count]


def test_start_image_is_the_lecture_gray_noise_in_unit_scale():
    image = filters.start_image(3, seed=0, size=SIZE)
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.float32
    assert image.min() >= 128 / 255 - 1e-6 and image.max() <= 148 / 255 + 1e-6
    assert abs(image.mean() - 138 / 255) < 0.01
    np.testing.assert_array_equal(image, filters.start_image(3, seed=0, size=SIZE))
    assert not np.array_equal(image, filters.start_image(4, seed=0, size=SIZE))


def test_deprocess_image_centres_scales_and_clips_each_image():
    rng = np.random.default_rng(0)
    batch = np.stack([rng.normal(5.0, 0.01, (20, 20, 3)), rng.normal(-3.0, 100.0, (20, 20, 3))])
    out = filters.deprocess_image(batch)
    assert out.dtype == np.uint8 and out.shape == batch.shape
    for image in out:
        assert abs(image.mean() - 127.5) < 2.0
        assert abs(image.std() - 25.5) < 2.0
    with pytest.raises(ValueError, match="expects"):
        filters.deprocess_image(np.zeros((4, 4)))


def test_batched_equals_one_by_one(tiny_model):
    """(The plain eager loop is the chapter's readable cell: tests/test_readable_cells.py.)"""
    indices = live_filters(tiny_model, "c2", 5)[::-1]  # any order: each element is its own filter
    batched = filters.filter_patterns(tiny_model, "c2", indices, steps=12, size=SIZE, deprocess=False)
    assert batched.shape == (len(indices), SIZE, SIZE, 3)
    for k, index in enumerate(indices):
        alone = filters.filter_pattern(tiny_model, "c2", index, steps=12, size=SIZE, deprocess=False)
        np.testing.assert_allclose(batched[k], alone, atol=1e-5)
    moved = np.abs(batched - np.stack([filters.start_image(i, 0, SIZE) for i in indices])).max(axis=(1, 2, 3))
    assert np.all(moved > 5 * filters.STEP_SIZE)  # the patterns really moved


def test_another_input_size_reuses_the_same_weights(tiny_model):
    """The tiny model is built for 32 x 32 (its Dense layer fixes that); patterns at 40 x 40 still work."""
    index = live_filters(tiny_model, "c2", 1)[0]
    batched = filters.filter_patterns(tiny_model, "c2", [index], steps=6, size=40, deprocess=False)
    assert batched.shape == (1, 40, 40, 3)
    assert np.abs(batched[0] - filters.start_image(index, 0, 40)).max() > 3 * filters.STEP_SIZE
    acts = filters.mean_filter_activations(tiny_model, "c2", batched)
    before = filters.mean_filter_activations(tiny_model, "c2", filters.start_image(index, 0, 40)[None])
    assert acts.shape == (1, 8) and acts[0, index] > 2 * before[0, index]


def test_scaled_input_feeds_the_same_layers_scaled_values():
    import keras
    from keras import layers

    keras.utils.set_random_seed(2)
    inputs = keras.Input(shape=(None, None, 3))
    pixels = keras.Model(inputs, layers.Conv2D(4, 3, activation="relu", name="conv")(inputs), name="pixels")
    wrapped = adapters.scaled_input(pixels, scale=255.0, size=SIZE)
    x = filters.start_image(0, 0, SIZE)[None]
    np.testing.assert_allclose(wrapped(x).numpy(), pixels(x * 255.0).numpy(), rtol=1e-5, atol=1e-4)
    assert lookup.conv_and_pooling_layer_names(wrapped) == ["conv"]
    assert wrapped.get_layer("conv") is pixels.get_layer("conv")
    raw = filters.filter_patterns(wrapped, "conv", [0, 1], steps=3, size=SIZE, deprocess=False)  # its own graph
    assert raw.shape == (2, SIZE, SIZE, 3) and np.abs(raw - filters.start_image(0, 0, SIZE)).max() > 0
    pre = filters.filter_patterns(wrapped, "conv", [0], steps=2, size=SIZE, objective=filters.PRE_ACTIVATION)
    assert pre.shape == (1, SIZE, SIZE, 3)


def test_small_batches_give_the_same_result_and_a_seed_reproduces(tiny_model):
    a = filters.filter_patterns(tiny_model, "c1", range(6), steps=5, size=SIZE, seed=3, batch_size=4)
    b = filters.filter_patterns(tiny_model, "c1", range(6), steps=5, size=SIZE, seed=3)
    c = filters.filter_patterns(tiny_model, "c1", range(6), steps=5, size=SIZE, seed=4)
    assert a.dtype == np.uint8
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5


def test_callback_reports_progress_and_matches_the_single_call(tiny_model):
    calls = []
    two = live_filters(tiny_model, "c2", 2)
    stepped = filters.filter_patterns(tiny_model, "c2", two, steps=6, size=SIZE, deprocess=False,
                                      callback=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (12, 12) and len(calls) == 6
    whole = filters.filter_patterns(tiny_model, "c2", two, steps=6, size=SIZE, deprocess=False)
    np.testing.assert_allclose(stepped, whole, atol=1e-5)


@pytest.mark.parametrize("layer", ["c1", "c2", "p2"])
def test_pattern_excites_its_filter_far_more_than_noise_and_more_than_the_others(tiny_model, layer):
    count = int(tiny_model.get_layer(layer).output.shape[-1])
    starts = np.stack([filters.start_image(i, 0, SIZE) for i in range(count)])
    start_acts = filters.mean_filter_activations(tiny_model, layer, starts, range(count))
    live = np.flatnonzero(start_acts > 0)  # a filter silent on the start has no gradient (the lecture's loss)
    assert len(live) >= count // 2
    raw = filters.filter_patterns(tiny_model, layer, live, steps=40, size=SIZE, deprocess=False)
    own = filters.mean_filter_activations(tiny_model, layer, raw, live)
    check = patterns.own_filter_check(tiny_model, layer, raw, live)
    np.testing.assert_allclose(own, check.own, rtol=1e-4, atol=1e-6)
    assert np.all(own > 3 * start_acts[live])
    assert np.all(check.passes) and np.all(check.own > check.others)


def test_regularized_ascent_also_climbs_and_is_smoother(tiny_model):
    live = live_filters(tiny_model, "c2", 3)
    starts = np.stack([filters.start_image(i, 0, SIZE) for i in live])
    naive = filters.filter_patterns(tiny_model, "c2", live, size=SIZE, deprocess=False)
    smooth = filters.filter_patterns(tiny_model, "c2", live, size=SIZE, deprocess=False,
                                    transforms=filters.REGULARIZATION)
    before = filters.mean_filter_activations(tiny_model, "c2", starts, live)
    after = filters.mean_filter_activations(tiny_model, "c2", smooth, live)
    assert np.all(after > 1.5 * before) and after.mean() > 2 * before.mean()

    assert np.all(patterns.roughness(smooth) < patterns.roughness(naive))


def test_pre_activation_objective_gives_a_silent_filter_a_gradient():
    import keras
    from keras import layers

    inputs = keras.Input(shape=(SIZE, SIZE, 3))
    x = layers.Conv2D(2, 3, activation="relu", name="conv", bias_initializer=keras.initializers.Constant(-100.0))(
        inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    model = keras.Model(inputs, x)
    start = filters.start_image(0, 0, SIZE)
    for layer in ("conv", "pool"):
        flat = filters.filter_patterns(model, layer, [0], steps=5, size=SIZE, deprocess=False)
        np.testing.assert_array_equal(flat[0], start)  # dead ReLU: the lecture's loss has no gradient
        moved = filters.filter_patterns(model, layer, [0], steps=5, size=SIZE, deprocess=False,
                                        objective=filters.PRE_ACTIVATION)
        assert np.abs(moved[0] - start).max() > 3 * filters.STEP_SIZE
        silent = filters.silent_filters(model, layer, [0, 1], size=SIZE)
        assert silent.tolist() == [True, True]
        chosen = filters.filter_patterns(model, layer, [0], steps=5, size=SIZE, deprocess=False,
                                         objective=filters.lecture_or_pre_activation(silent[:1]))
        np.testing.assert_allclose(chosen, moved, atol=1e-6)
    with pytest.raises(TypeError, match="objective must be an objective of convlens.objectives"):
        filters.filter_patterns(model, "conv", [0], objective="pre_activation")  # no names, objects only


def test_lecture_or_pre_activation_keeps_the_lecture_loss_for_filters_that_fire(tiny_model):
    silent = filters.silent_filters(tiny_model, "c2", range(8), size=SIZE)
    assert silent.any() and not silent.all()  # the tiny model has both kinds
    calls = []
    auto = filters.filter_patterns(tiny_model, "c2", range(8), steps=4, size=SIZE, deprocess=False,
                                   objective=filters.lecture_or_pre_activation(silent),
                                   callback=lambda done, total: calls.append((done, total)))
    lecture = filters.filter_patterns(tiny_model, "c2", range(8), steps=4, size=SIZE, deprocess=False)
    pre = filters.filter_patterns(tiny_model, "c2", range(8), steps=4, size=SIZE, deprocess=False,
                                  objective=filters.PRE_ACTIVATION)
    np.testing.assert_allclose(auto[~silent], lecture[~silent], atol=1e-5)
    np.testing.assert_allclose(auto[silent], pre[silent], atol=1e-5)
    assert calls[-1] == (32, 32)
    starts = np.stack([filters.start_image(i, 0, SIZE) for i in range(8)])
    np.testing.assert_array_equal(lecture[silent], starts[silent])  # silent under the lecture's loss
    assert np.all(np.abs(auto - starts).max(axis=(1, 2, 3)) > 0)  # every filter gets a pattern


def test_errors_name_the_problem_and_the_fix(tiny_model):
    with pytest.raises(ValueError, match=r"No layer named 'conv9'.*c1, p1, c2, p2"):
        filters.filter_pattern(tiny_model, "conv9", 0)
    with pytest.raises(ValueError, match=r"'out' \(Dense.*not a convolution or pooling.*choose one of: c1, p1, c2, p2"):
        filters.filter_pattern(tiny_model, "out", 0)
    with pytest.raises(ValueError, match=r"'flat' \(Flatten"):
        filters.filter_patterns(tiny_model, "flat", [0])
    with pytest.raises(IndexError, match=r"Filter 8 is out of range for layer 'c2', which has 8 filters: .* 0\.\.7"):
        filters.filter_patterns(tiny_model, "c2", [0, 8])
    with pytest.raises(IndexError, match="-1"):
        filters.filter_pattern(tiny_model, "c2", -1)
    with pytest.raises(TypeError, match=r"index \(one filter number; filter_patterns takes many\) must be a whole"):
        filters.filter_pattern(tiny_model, "c2", 1.5)
    with pytest.raises(ValueError, match="non-empty"):
        filters.filter_patterns(tiny_model, "c2", [])
    with pytest.raises(ValueError, match="one image per filter"):
        filters.mean_filter_activations(tiny_model, "c2", np.zeros((2, SIZE, SIZE, 3)), [0])


def test_plots_are_titled_and_the_pager_embeds_jpeg_images(tiny_model):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from convlens.plotting import filters as plot
    from convlens.widgets import filters as widgets

    patterns = filters.filter_patterns(tiny_model, "c1", range(4), steps=2, size=SIZE)
    fig = plot.pattern_grid(patterns, "c1", range(4))
    assert fig._suptitle.get_text().startswith("Filter patterns of c1")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["#0", "#1"]
    marked = plot.pattern_grid(patterns, "c1", range(4), silent=[False, True, False, False])
    assert marked.axes[1].get_title() == "#1*" and marked.axes[0].get_title() == "#0"
    assert marked._suptitle.get_text().endswith("\n* silent")
    fig2 = plot.compare_patterns({"naive": patterns[:2], "regularized": patterns[2:]}, [0, 1], "naive vs regularized")
    assert fig2.axes[0].get_ylabel() == "naive" and fig2.axes[2].get_ylabel() == "regularized"
    fig3 = plot.compare_pattern_grids({"conv": patterns, "pool": patterns}, range(4), "conv vs pool", ncols=2)
    assert sum(ax.get_title() == "#3" for ax in fig3.axes) == 1  # one title per filter, above its sets
    assert [ax.get_ylabel() for ax in fig3.axes if ax.get_ylabel()] == ["conv", "pool"] * 2  # interleaved rows
    with pytest.raises(ValueError, match="one index per pattern"):
        plot.pattern_grid(patterns, "c1", range(3))
    plt.close("all")
    html = widgets.pattern_pager({"c1": (range(4), patterns)}).data
    assert html.count("<img") == 4 and html.count("data:image/jpeg;base64,") == 4
    assert "c1, filter 3" in html


def test_explorer_computes_a_pattern_on_click(tiny_model):
    from convlens.widgets import filters as widgets

    box = widgets.pattern_explorer(tiny_model, ["c1", "c2"], steps=3, size=SIZE)
    (layer, index, _), (button, progress, status), image = box.children[0].children, box.children[1].children, \
        box.children[2]
    assert index.max == 7  # c2 (default: the last layer) has 8 filters
    layer.value = "c1"
    assert index.max == 5
    button.click()
    assert progress.value == 3 and image.value[:4] == b"\x89PNG"
    assert "c1, filter 0" in status.value
    with pytest.raises(ValueError, match="No layer named"):
        widgets.pattern_explorer(tiny_model, ["nope"])


# ------------------------------------------------------------------ settings are arguments (issue 14.3)


def test_changing_the_step_size_after_a_first_call_changes_the_result(tiny_model):
    (live,) = live_filters(tiny_model, "c2", 1)
    lecture = filters.filter_patterns(tiny_model, "c2", [live], steps=5, size=SIZE, deprocess=False)
    doubled = filters.filter_patterns(tiny_model, "c2", [live], steps=5, size=SIZE, deprocess=False,
                                      step=filters.Step(2 * filters.STEP_SIZE, filters.GRADIENT_EPSILON))
    assert np.abs(doubled - lecture).max() > filters.STEP_SIZE
    again = filters.filter_patterns(tiny_model, "c2", [live], steps=5, size=SIZE, deprocess=False)
    np.testing.assert_array_equal(again, lecture)  # the lecture's function is still cached under its own key


def test_jitter_blur_and_epsilon_are_arguments_too(tiny_model):
    live = live_filters(tiny_model, "c2", 2)
    kwargs = {"steps": 8, "size": SIZE, "deprocess": False}
    base = filters.filter_patterns(tiny_model, "c2", live, transforms=filters.REGULARIZATION, **kwargs)
    for change in ({"transforms": filters.regularization(jitter_pixels=0)},
                   {"transforms": filters.regularization(blur_sigma=2.0)},
                   {"transforms": filters.regularization(blur_every=1)},
                   {"transforms": filters.REGULARIZATION, "step": filters.Step(filters.STEP_SIZE, 10.0)}):
        changed = filters.filter_patterns(tiny_model, "c2", live, **{"transforms": (), **kwargs, **change})
        assert np.abs(changed - base).max() > 1e-4, change
    np.testing.assert_array_equal(
        filters.filter_patterns(tiny_model, "c2", live, transforms=filters.REGULARIZATION, **kwargs), base)
    with pytest.raises(ValueError, match="step_size must be a finite number above 0"):
        filters.Step(0.0, filters.GRADIENT_EPSILON)
    with pytest.raises(ValueError, match="blur_every must be 1 or more"):
        filters.regularization(blur_every=0)
    with pytest.raises(TypeError, match="step must be a filters.Step"):
        filters.filter_patterns(tiny_model, "c2", live, step=0.5)


# ------------------------------------------------------------------ bad input (issue 11)


@pytest.mark.parametrize("size", [0, 1, 2, 7])
def test_too_small_sizes_name_size_and_the_smallest_valid_one(tiny_model, size):
    with pytest.raises(ValueError, match=rf"size={size} is too small for layer 'c2'.*Use size 8 or more"
                       if size else "size must be from 1 to 1024"):
        filters.filter_patterns(tiny_model, "c2", [0], steps=1, size=size)
    assert filters.filter_patterns(tiny_model, "c2", [0], steps=1, size=8).shape == (1, 8, 8, 3)


def test_huge_sizes_are_refused_before_any_memory_is_used(tiny_model):
    with pytest.raises(ValueError, match="size must be from 1 to 1024 pixels .*got 10000"):
        filters.filter_patterns(tiny_model, "c2", [0], size=10000)
    with pytest.raises(ValueError, match="too small for layer 'p2'.*Use size 10 or more"):
        filters.mean_filter_activations(tiny_model, "p2", np.zeros((1, 9, 9, 3), np.float32))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"steps": 2.5}, TypeError, "steps must be a whole number"),
        ({"steps": -1}, ValueError, "steps must be 0 or more"),
        ({"batch_size": 0}, ValueError, "batch_size must be 1 or more"),
        ({"seed": 0.5}, TypeError, "seed must be a whole number"),
        ({"size": 20.0}, TypeError, "size must be a whole number"),
        ({"start": np.zeros((2, SIZE, SIZE, 3), np.float32)}, ValueError, "start must be a batch of 1 square images"),
        ({"start": np.full((1, SIZE, SIZE, 3), np.nan, np.float32)}, ValueError, "NaN"),
        ({"seed": -1}, ValueError, "seed must be 0 or more"),
        # A start in 0-255 units (the lecture's gray 128 + noise) is refused, not climbed from as it is.
        ({"start": 128 + 20 * np.random.default_rng(0).random((1, SIZE, SIZE, 3))}, ValueError,
         r"start images must lie in \[-10, 10\].*0-255 pixel values: divide them by 255"),
        ({"start": np.full((1, SIZE, SIZE, 3), 128, np.uint8)}, ValueError, "divide them by 255"),
    ],
)
def test_odd_arguments_get_clear_errors(tiny_model, kwargs, error, match):
    from convlens.errors import ConvlensError

    with pytest.raises(error, match=match) as info:
        filters.filter_patterns(tiny_model, "c2", [0], **kwargs)
    assert isinstance(info.value, ConvlensError)


def test_a_single_filter_number_for_many_gets_the_fix(tiny_model):
    from convlens.errors import ConvlensError

    with pytest.raises(TypeError, match=r"filters must be a list of filter numbers, e.g. \[3\]") as info:
        filters.filter_patterns(tiny_model, "c2", 3)
    assert isinstance(info.value, ConvlensError)
    with pytest.raises(ValueError, match="seed must be 0 or more"):
        filters.start_image(0, seed=-1)


def test_a_raw_pattern_a_little_outside_zero_one_is_a_valid_start(tiny_model):
    (live,) = live_filters(tiny_model, "c2", 1)
    raw = filters.filter_patterns(tiny_model, "c2", [live], steps=3, size=SIZE, deprocess=False)
    stretched = (raw - 0.5) * 12 + 0.5  # values beyond [0, 1], as a long ascent gives
    assert stretched.min() < 0 or stretched.max() > 1
    more = filters.filter_patterns(tiny_model, "c2", [live], steps=2, start=stretched, deprocess=False)
    assert more.shape == raw.shape and np.all(np.isfinite(more))


def test_the_ascent_transforms_are_small_functions_that_compose():
    import tensorflow as tf

    from convlens import ascent, transforms

    shifts = np.stack([transforms.jitter_shift(tf.constant(7), tf.constant(step), 4).numpy() for step in range(50)])
    assert shifts.min() >= -4 and shifts.max() <= 4 and len({tuple(s) for s in shifts}) > 10
    np.testing.assert_array_equal(transforms.jitter_shift(tf.constant(7), tf.constant(3), 4), shifts[3])
    images = tf.constant(np.random.default_rng(1).random((2, 9, 9, 3)).astype(np.float32))
    np.testing.assert_array_equal(transforms.roll(transforms.roll(images, [2, -3]), [-2, 3]), images)
    kernel = transforms.gaussian_kernel(0.7, 3)
    assert kernel.shape == (5, 5, 3, 1)
    np.testing.assert_allclose(kernel.sum(axis=(0, 1)), 1.0, rtol=1e-6)
    flat = tf.fill((1, 9, 9, 3), 0.25)
    np.testing.assert_allclose(transforms.gaussian_blur(flat, kernel), flat, rtol=1e-6)
    blurred = transforms.gaussian_blur(images, kernel).numpy()
    assert blurred.shape == images.shape and blurred.std() < images.numpy().std()
    grads = tf.constant(np.random.default_rng(2).normal(size=(2, 9, 9, 3)).astype(np.float32))
    moved = (ascent.normalized_step(images, grads, 0.1, 0.0) - images).numpy()
    np.testing.assert_allclose(np.sqrt((moved**2).mean(axis=(1, 2, 3))), 0.1, rtol=1e-5)


# ------------------------------------------------------------------ objectives and transforms are objects (issue 28.3)


def test_objectives_add_and_scale_into_weighted_mixes():
    from convlens.objectives import ChannelCentre, ChannelMean, Mix

    mean, centre, pre = ChannelMean(), ChannelCentre(), ChannelMean(pre_activation=True)
    mixed = mean + 0.5 * centre - pre
    assert mixed == Mix(((1.0, mean), (0.5, centre), (-1.0, pre)))  # flat: no Mix inside a Mix
    assert 2 * (mean + centre) == Mix(((2.0, mean), (2.0, centre)))
    assert hash(mean + centre) == hash(ChannelMean() + ChannelCentre()) and mean != pre
    assert mixed.taps == {False, True} and mean.taps == {False} and pre.taps == {True}
    with pytest.raises(TypeError, match="must be a number"):
        mean * "2"
    with pytest.raises(TypeError, match="build it with \\+ and \\*"):
        Mix(())


def test_each_objective_reads_its_own_channel_of_each_element():
    import tensorflow as tf

    from convlens.objectives import ChannelCentre, ChannelMean

    maps = np.random.default_rng(0).normal(size=(3, 5, 7, 4)).astype(np.float32)
    pre = maps - 1.0
    indices = tf.constant([2, 0, 3])
    taps = {False: tf.constant(maps), True: tf.constant(pre)}
    own = maps[np.arange(3), :, :, [2, 0, 3]]  # (3, 5, 7)
    np.testing.assert_allclose(ChannelMean()(taps, indices), own.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(ChannelCentre()(taps, indices), own[:, 2, 3], rtol=1e-6)
    np.testing.assert_allclose(ChannelMean(pre_activation=True)(taps, indices), own.mean(axis=(1, 2)) - 1, rtol=1e-5)
    mixed = (ChannelMean() - 0.25 * ChannelCentre(pre_activation=True))(taps, indices)
    np.testing.assert_allclose(mixed, own.mean(axis=(1, 2)) - 0.25 * (own[:, 2, 3] - 1), rtol=1e-5)


def test_objective_objects_give_the_chapters_named_objectives(tiny_model):
    from convlens.objectives import ChannelMean

    kwargs = {"steps": 4, "size": SIZE, "deprocess": False}
    silent = filters.silent_filters(tiny_model, "c2", range(8), size=SIZE)
    named = filters.filter_patterns(tiny_model, "c2", range(8), objective=filters.PRE_ACTIVATION, **kwargs)
    objects = filters.filter_patterns(tiny_model, "c2", range(8), objective=ChannelMean(pre_activation=True), **kwargs)
    np.testing.assert_array_equal(named, objects)
    chosen = filters.lecture_or_pre_activation(silent)
    per_filter = filters.filter_patterns(tiny_model, "c2", range(8), **kwargs, objective=chosen)
    listed = filters.filter_patterns(tiny_model, "c2", range(8), **kwargs, objective=[
        ChannelMean(pre_activation=True) if is_silent else ChannelMean() for is_silent in silent])
    np.testing.assert_array_equal(per_filter, listed)


def test_a_centre_objective_and_a_mix_climb_what_they_say(tiny_model):
    import tensorflow as tf

    from convlens.ascent import Target, compiled_objective
    from convlens.objectives import ChannelCentre, ChannelMean

    target = Target(tiny_model, tiny_model.get_layer("c2"), SIZE)

    def value(objective, images, indices):
        return compiled_objective(target, objective)(tf.constant(images), tf.constant(indices)).numpy()

    every = np.stack([filters.start_image(i, 0, SIZE) for i in range(8)])
    live = [int(i) for i in np.flatnonzero(value(ChannelCentre(), every, list(range(8))) > 0)]  # centre fires
    assert len(live) >= 2
    starts = every[live]
    centre = filters.filter_patterns(tiny_model, "c2", live, steps=10, size=SIZE, deprocess=False,
                                     objective=ChannelCentre())
    assert np.all(value(ChannelCentre(), centre, live) > 3 * value(ChannelCentre(), starts, live))
    mean = filters.filter_patterns(tiny_model, "c2", live, steps=10, size=SIZE, deprocess=False)
    assert np.all(value(ChannelCentre(), centre, live) > value(ChannelCentre(), mean, live))  # another pattern
    mix = ChannelMean() + 0.5 * ChannelCentre()
    np.testing.assert_allclose(value(mix, mean, live),
                               value(ChannelMean(), mean, live) + 0.5 * value(ChannelCentre(), mean, live), rtol=1e-5)


def test_transforms_passed_in_are_the_regularized_ascent(tiny_model):
    from convlens.transforms import Blur, Jitter

    live = live_filters(tiny_model, "c2", 2)
    kwargs = {"steps": 8, "size": SIZE, "deprocess": False}
    short = filters.filter_patterns(tiny_model, "c2", live, transforms=filters.regularization(blur_sigma=1.5),
                                    **kwargs)
    listed = filters.filter_patterns(tiny_model, "c2", live, transforms=[Jitter(4), Blur(1.5, 4)], **kwargs)
    np.testing.assert_array_equal(short, listed)
    blur_only = filters.filter_patterns(tiny_model, "c2", live, transforms=[Blur(1.5, 4)], **kwargs)
    swapped = filters.filter_patterns(tiny_model, "c2", live, transforms=[Blur(1.5, 4), Jitter(4)], **kwargs)
    assert np.abs(blur_only - listed).max() > 1e-4 and np.abs(swapped - listed).max() > 1e-4  # order matters
    with pytest.raises(TypeError, match="transforms must be a list of convlens.transforms"):
        filters.filter_patterns(tiny_model, "c2", live, transforms=["jitter"])
    with pytest.raises(TypeError, match="unexpected keyword"):
        filters.filter_patterns(tiny_model, "c2", live, regularized=True)  # no flag: transforms= says it
    with pytest.raises(TypeError, match="one per filter"):
        filters.filter_patterns(tiny_model, "c2", live, objective=[filters.LECTURE_OBJECTIVE])
    with pytest.raises(ValueError, match="jitter_pixels must be 0 or more"):
        Jitter(-1)


def test_equal_settings_share_one_compiled_function_and_mean_activations_has_its_own(tiny_model):
    from convlens import ascent
    from convlens.objectives import ChannelMean
    from convlens.submodels import _CACHE
    from convlens.transforms import Blur, Jitter

    model = centred_tiny_convnet(SIZE, seed=1)  # a fresh cache
    target = ascent.Target(model, model.get_layer("c2"), SIZE)
    first = ascent.compiled_ascent(target, ChannelMean(), ascent.Step(0.01, 1e-5), [Jitter(2), Blur(0.7, 4)])
    assert first is ascent.compiled_ascent(target, ChannelMean(), ascent.Step(0.01, 1e-5), (Jitter(2), Blur(0.7, 4)))
    assert first is not ascent.compiled_ascent(target, ChannelMean(), ascent.Step(0.01, 1e-5), [Jitter(3)])
    filters.mean_filter_activations(model, "c2", np.stack([filters.start_image(0, 0, SIZE)]), [0])
    kinds = sorted(key[0] for key in _CACHE[model] if isinstance(key, tuple))
    assert kinds.count("filter_ascent") == 2 and kinds.count("filter_objective") == 1


def test_the_target_is_checked_once_per_call(tiny_model, monkeypatch):
    counts = {"find_layer": 0, "_check_size": 0}

    def counted(name):
        real = getattr(filters, name)

        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(filters, name, wrapper)

    silent = filters.silent_filters(tiny_model, "c2", range(8), size=SIZE)
    counted("find_layer")
    counted("_check_size")
    filters.filter_patterns(tiny_model, "c2", range(8), steps=1, size=SIZE, transforms=filters.REGULARIZATION,
                            objective=filters.lecture_or_pre_activation(silent))
    assert counts == {"find_layer": 1, "_check_size": 1}
