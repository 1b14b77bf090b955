"""convlens.gradcam: known-answer heatmaps, class handling, batching, errors; the ImageNet adapter
(convlens.adapters) and the heatmap checks (convlens.measures.heatmaps).

Every model here is tiny and hand-built (32 x 32 inputs), so the file runs in seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from convlens import adapters, gradcam
from convlens.measures import heatmaps

SIZE = 32


def colour_model(dog_weights=(1.0, 0.0), bias=0.0):
    """Channel 0 of the conv layer detects red (R - G), channel 1 green (G - R), 1 x 1 kernels.

    The dog logit is ``dog_weights @ mean(channel maps) + bias``: with (1, 0) only red matters.
    """
    import keras
    from keras import layers

    inputs = keras.Input((SIZE, SIZE, 3))
    conv = layers.Conv2D(2, 1, activation="relu", name="colour_conv")
    x = conv(inputs)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    dense = layers.Dense(1, activation="sigmoid", name="decision")
    outputs = dense(x)
    model = keras.Model(inputs, outputs, name="colour_model")
    kernel = np.zeros((1, 1, 3, 2), np.float32)
    kernel[0, 0, :, 0] = (1.0, -1.0, 0.0)
    kernel[0, 0, :, 1] = (-1.0, 1.0, 0.0)
    conv.set_weights([kernel, np.zeros(2, np.float32)])
    dense.set_weights([np.asarray(dog_weights, np.float32).reshape(2, 1) * 20.0, np.asarray([bias], np.float32)])
    return model


def red_and_green_photo():
    """Black photo, a red square top-left, a green square bottom-right."""
    image = np.zeros((SIZE, SIZE, 3), np.float32)
    image[2:10, 2:10, 0] = 1.0
    image[20:30, 20:30, 1] = 1.0
    return image


def square_mass(heatmap, rows, cols):
    full = gradcam.upsample(heatmap, (SIZE, SIZE))
    return full[rows, cols].sum() / full.sum()


class RegionMask:
    """Keras layer factory: zeros everything outside the top-left quadrant."""

    @staticmethod
    def build():
        import keras

        class _Mask(keras.layers.Layer):
            def call(self, x):
                mask = np.zeros((1, SIZE, SIZE, 1), np.float32)
                mask[:, : SIZE // 2, : SIZE // 2] = 1.0
                return x * mask

        return _Mask(name="region_mask")


def masked_model(seed=0):
    """A random convnet that only sees the top-left quadrant of its input."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = RegionMask.build()(inputs)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, activation="relu", name="conv_a")(x)
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, activation="relu", name="conv_b")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(8, activation="relu", name="hidden")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="out")(x)
    return keras.Model(inputs, outputs, name="masked")


@pytest.fixture(scope="module")
def masked():
    return masked_model()


def random_photos(count, seed=1):
    return np.random.default_rng(seed).random((count, SIZE, SIZE, 3), dtype=np.float32)


def test_heatmap_mass_lies_in_the_only_region_the_model_sees(masked):
    maps = gradcam.grad_cam(masked, random_photos(6), class_index=1)
    assert maps.shape == (6, SIZE, SIZE)
    # conv_b's 3x3 receptive fields reach 2 pixels beyond the quadrant, nothing further.
    inside = maps[:, : SIZE // 2 + 2, : SIZE // 2 + 2].sum(axis=(1, 2))
    assert np.all(maps.sum(axis=(1, 2)) > 0)
    np.testing.assert_allclose(inside / maps.sum(axis=(1, 2)), 1.0, atol=1e-6)
    strictly_inside = maps[:, : SIZE // 2, : SIZE // 2].sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
    assert np.all(strictly_inside > 0.8)


def test_dog_and_cat_heatmaps_point_at_their_own_evidence():
    model = colour_model(dog_weights=(1.0, -1.0))  # dog = red, cat = green
    photo = red_and_green_photo()
    red, green = (slice(2, 10), slice(2, 10)), (slice(20, 30), slice(20, 30))
    dog_map = gradcam.grad_cam(model, photo, class_index=1)[0]
    cat_map = gradcam.grad_cam(model, photo, class_index=0)[0]
    assert square_mass(dog_map, *red) > 0.9 and square_mass(dog_map, *green) < 0.05
    assert square_mass(cat_map, *green) > 0.9 and square_mass(cat_map, *red) < 0.05


def test_default_explains_the_predicted_class():
    photo = red_and_green_photo()
    for bias, predicted in ((-50.0, 0), (50.0, 1)):  # the bias alone decides: saturated sigmoid both ways
        model = colour_model(dog_weights=(1.0, -1.0), bias=bias)
        result = gradcam.grad_cam_details(model, photo)
        assert result.class_index.tolist() == [predicted]
        assert (result.dog_probability[0] > 0.5) == bool(predicted)
        np.testing.assert_allclose(result.heatmaps, gradcam.grad_cam(model, photo, class_index=predicted))
        # The logit, not the saturated probability, is differentiated: the map is not blank.
        assert result.heatmaps.max() == pytest.approx(1.0)


def test_score_is_the_logit_not_the_probability():
    """With p = sigmoid(50) = 1.0 in float32, gradients of p vanish; the logit's do not."""
    model = colour_model(dog_weights=(1.0, 0.0), bias=50.0)
    result = gradcam.grad_cam_details(model, red_and_green_photo(), class_index=1)
    assert result.dog_probability[0] == pytest.approx(1.0)
    assert square_mass(result.heatmaps[0], slice(2, 10), slice(2, 10)) > 0.9


def test_shapes_range_and_no_nan(masked):
    photos = random_photos(5)
    for method in gradcam.METHODS:
        maps = gradcam.grad_cam(masked, photos, method=method)
        assert maps.shape == (5, SIZE, SIZE) and maps.dtype == np.float32
        assert np.all(np.isfinite(maps)) and maps.min() >= 0.0
        np.testing.assert_allclose(maps.max(axis=(1, 2)), 1.0, rtol=1e-6)
    earlier = gradcam.grad_cam(masked, photos, layer="conv_a")
    assert earlier.shape == (5, SIZE, SIZE)


def test_constant_image_gives_zeros_not_nan(masked):
    """A black photo: every activation and gradient into conv_b's maps is zero."""
    maps = gradcam.grad_cam(masked, np.zeros((2, SIZE, SIZE, 3), np.float32))
    assert np.all(np.isfinite(maps))
    np.testing.assert_array_equal(maps, 0.0)
    for photo in (np.full((SIZE, SIZE, 3), 0.5, np.float32),):
        assert np.all(np.isfinite(gradcam.grad_cam(masked, photo, method="gradcam++")))


def test_batched_equals_one_by_one(masked):
    """(The chapter's readable cell is the reference: tests/test_readable_cells.py.)"""
    photos = random_photos(7, seed=3)
    batched = gradcam.grad_cam(masked, photos, batch_size=3)  # uneven last batch
    singles = np.concatenate([gradcam.grad_cam(masked, photo[None]) for photo in photos])
    np.testing.assert_allclose(batched, singles, atol=1e-5)


def test_gradcam_plus_plus_weights_follow_the_papers_closed_form():
    """Chattopadhyay et al. (2018), eq. 19 with an exponential score, written in NumPy."""
    rng = np.random.default_rng(4)
    fmap = rng.random((2, 5, 6, 3)).astype(np.float32)
    grads = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    grads[0, :, :, 1] = 0.0  # a channel with no gradient: alpha's denominator is 0
    g2, g3 = grads.astype(np.float64) ** 2, grads.astype(np.float64) ** 3
    denominator = 2 * g2 + fmap.sum(axis=(1, 2), keepdims=True) * g3
    alpha = g2 / np.where(denominator != 0, denominator, 1.0)
    expected = (alpha * np.maximum(grads, 0)).sum(axis=(1, 2))
    np.testing.assert_allclose(gradcam.gradcam_plus_plus_weights(fmap, grads).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(gradcam.gradcam_weights(fmap, grads).numpy(), grads.mean(axis=(1, 2)), rtol=1e-5)


def test_the_methods_differ_in_their_channel_weights_alone():
    """weighted_cam: the ReLU of the weighted sum, over its maximum; zero maps stay zero."""
    fmap = np.zeros((2, 3, 3, 2), np.float32)
    fmap[0, 0, 0, 0], fmap[0, 2, 2, 1] = 2.0, 1.0
    cam = gradcam.weighted_cam(fmap, np.array([[1.0, -4.0], [1.0, 1.0]], np.float32)).numpy()
    expected = np.zeros((3, 3))
    expected[0, 0] = 1.0  # 2 * 1 / 2; the other cell is -4 before the ReLU
    np.testing.assert_allclose(cam[0], expected)
    np.testing.assert_array_equal(cam[1], 0.0)


def test_gradcam_plus_plus_differs_but_localises_the_same_region(masked):
    photos = random_photos(4, seed=5)
    plain = gradcam.grad_cam(masked, photos)
    plus = gradcam.grad_cam(masked, photos, method="gradcam++")
    assert np.abs(plain - plus).max() > 1e-3
    assert np.all(plus[:, SIZE // 2 + 2 :, :] == 0) and np.all(plus[:, :, SIZE // 2 + 2 :] == 0)


def test_clear_errors():
    import keras
    from keras import layers

    inputs = keras.Input((SIZE, SIZE, 3))
    dense_only = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(layers.Flatten()(inputs)), name="mlp")
    with pytest.raises(ValueError, match="no convolution layer"):
        gradcam.grad_cam(dense_only, random_photos(1))
    model = masked_model()
    with pytest.raises(ValueError, match=r"not a convolution layer.*conv_a, conv_b"):
        gradcam.grad_cam(model, random_photos(1), layer="hidden")
    with pytest.raises(ValueError, match=r"No layer named 'conv_9'.*conv_a, conv_b"):
        gradcam.grad_cam(model, random_photos(1), layer="conv_9")
    with pytest.raises(ValueError, match="class_index must be 0"):
        gradcam.grad_cam(model, random_photos(1), class_index=2)
    with pytest.raises(ValueError, match="gradcam, gradcam\\+\\+"):
        gradcam.grad_cam(model, random_photos(1), method="scorecam")
    with pytest.raises(ValueError, match="Expected images of shape"):
        gradcam.grad_cam(model, np.zeros((1, 10, 10, 3), np.float32))
    softmax = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(layers.Conv2D(1, 3)(inputs))))
    with pytest.raises(ValueError, match="Dense\\(1, activation='sigmoid'\\)"):
        gradcam.grad_cam(softmax, random_photos(1))


def test_imagenet_wrapper_derives_cat_vs_dog_from_class_sets():
    """A stand-in 'ImageNet classifier' (random, tiny) checks the wrapper's arithmetic, not VGG16."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 3))
    x = layers.Conv2D(4, 3, activation="relu", name="block5_conv3")(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1000, name="predictions")(x)  # logits, as VGG16(classifier_activation=None) gives
    classifier = keras.Model(inputs, outputs, name="fake_imagenet")
    wrapped = adapters.imagenet_cats_vs_dogs(classifier)
    photos = np.random.default_rng(0).random((3, 150, 150, 3), dtype=np.float32)
    p_dog = gradcam.predict_dog(wrapped, photos)
    resized = keras.layers.Resizing(48, 48)(photos).numpy()
    logits = classifier.predict(resized[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68]), verbose=0)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    dog = probs[:, list(adapters.DOG_CLASSES)].sum(1)
    cat = probs[:, list(adapters.CAT_CLASSES)].sum(1)
    np.testing.assert_allclose(p_dog, dog / (dog + cat), rtol=1e-4)
    assert gradcam.last_conv_layer(wrapped) == "block5_conv3"
    maps = gradcam.grad_cam(wrapped, photos)
    assert maps.shape == (3, 46, 46) and np.all(np.isfinite(maps))
    dogs, cats = set(adapters.DOG_CLASSES), set(adapters.CAT_CLASSES)
    assert dogs and cats and not dogs & cats and dogs | cats <= set(range(1000)), "disjoint ImageNet classes"


def test_best_and_worst_sorted_by_confidence():
    p = np.array([0.9, 0.2, 0.97, 0.6, 0.02, 0.45, 0.7, 0.3])
    labels = np.array([1, 1, 1, 0, 0, 1, 0, 0])
    correct, wrong = gradcam.best_and_worst(p, labels, count=2)
    assert correct.tolist() == [4, 2]  # confidences 0.98, 0.97
    assert wrong.tolist() == [1, 6]  # a dog called cat at 0.8, a cat called dog at 0.7
    correct, wrong = gradcam.best_and_worst(p, labels, count=10)
    assert sorted(correct.tolist() + wrong.tolist()) == list(range(8)) and len(wrong) == 4


def test_randomized_copy_has_same_architecture_and_new_weights(masked):
    copy = heatmaps.randomized_copy(masked, seed=1)
    assert [layer.name for layer in copy.layers[1:]] == [layer.name for layer in masked.layers[1:]]
    assert not np.allclose(copy.get_layer("conv_b").get_weights()[0], masked.get_layer("conv_b").get_weights()[0])
    again = heatmaps.randomized_copy(masked, seed=1)
    np.testing.assert_array_equal(again.get_layer("conv_b").get_weights()[0], copy.get_layer("conv_b").get_weights()[0])


def test_deletion_by_heatmap_beats_random_order():
    model = colour_model(dog_weights=(1.0, -1.0), bias=-1.0)  # dog = red minus green
    photos = np.stack([red_and_green_photo()] * 2)
    photos[1, 20:30, 20:30, 1] = 0.0  # second photo: red square only
    heat = gradcam.grad_cam(model, photos, class_index=1)
    fractions = np.linspace(0, 1, 11)
    guided = heatmaps.deletion_curve(model, photos, heat, class_index=1, fractions=fractions)
    random = heatmaps.deletion_curve(model, photos, heatmaps.random_heatmaps(2, heat.shape[1:], seed=0), 1, fractions)
    assert guided[0] == pytest.approx(random[0]) and guided[-1] == pytest.approx(random[-1])
    assert guided[1] < random[1] - 0.1  # the red squares (6% of the pixels) go first
    assert heatmaps.curve_area(fractions, guided) < heatmaps.curve_area(fractions, random)
    pixelwise = heatmaps.deletion_curve(model, photos, None, class_index=1, fractions=fractions, seed=0)
    assert heatmaps.curve_area(fractions, guided) < heatmaps.curve_area(fractions, pixelwise)
    assert heatmaps.curve_area([0, 1], [1, 1]) == pytest.approx(1.0)
    assert heatmaps.random_heatmaps(3, (4, 5), seed=2).shape == (3, 4, 5)
    rows = heatmaps.deletion_curve(model, photos, heat, class_index=1, fractions=fractions, per_photo=True)
    assert rows.shape == (2, 11)
    np.testing.assert_allclose(rows.mean(axis=0), guided)
    np.testing.assert_allclose(heatmaps.curve_area(fractions, rows).mean(), heatmaps.curve_area(fractions, guided))
    with pytest.raises(ValueError, match="0 \\(cat\\) or 1 \\(dog\\)"):
        heatmaps.deletion_curve(model, photos, heat, class_index=None)


def test_overlay_at_the_photos_own_resolution_with_a_colour_bar():
    import matplotlib.pyplot as plt

    from convlens.plotting import gradcam as plots

    photo = np.zeros((90, 120, 3), np.float32)  # not 150 x 150, not square
    heat = np.zeros((5, 5), np.float32)
    heat[0, 0] = 1.0
    blended = plots.blend(photo, heat, alpha=0.5)
    assert blended.shape == (90, 120, 3) and blended.min() >= 0 and blended.max() <= 1
    # The hot corner is brighter than the cold opposite corner.
    assert blended[0, 0].sum() > blended[-1, -1].sum()
    fig = plots.overlay(photo, heat, title="t")
    assert len(fig.axes) == 2 and fig.axes[0].images[0].get_array().shape[:2] == (90, 120)
    grid = plots.overlay_grid([photo] * 3, [heat] * 3, ["a", "b", "c"], ncols=2)
    assert len(grid.axes) == 5  # 2 x 2 cells and one colour bar
    with pytest.raises(ValueError, match="as many heatmaps as photos"):
        plots.overlay_grid([photo] * 2, [heat])
    plt.close("all")


def test_overlay_pager_embeds_one_image_per_photo():
    from convlens.widgets import gradcam as widgets

    photos = np.random.default_rng(0).random((3, 20, 20, 3), dtype=np.float32)
    maps = np.random.default_rng(1).random((3, 4, 4), dtype=np.float32)
    html = widgets.overlay_pager({"best": (photos, maps, ["x", "y", "z"]), "worst": (photos[:1], maps[:1], ["w"])}).data
    assert html.count("<img") == 4 and "data:image/jpeg;base64," in html and ">worst<" in html


# --------------------------------------------------------------------------- bad input (issue 11)


@pytest.mark.parametrize(
    ("photos", "match"),
    [
        ((random_photos(1) * 255).astype(np.uint8), "uint8 integers.*divide 0-255 values by 255"),
        (np.full((1, SIZE, SIZE, 3), np.nan, np.float32), "NaN"),
        (random_photos(1) * 255.0, r"must lie in \[0, 1\]"),
        (np.zeros((0, SIZE, SIZE, 3), np.float32), "empty"),
    ],
)
def test_photos_outside_the_models_input_are_refused(masked, photos, match):
    from convlens.errors import InputImageError

    for explain in (gradcam.grad_cam, gradcam.grad_cam_details, gradcam.predict_dog):
        with pytest.raises(InputImageError, match=match):
            explain(masked, photos)


@pytest.mark.parametrize("class_index", [0.5, 1.7, [0.0, 1.0], "dog"])
def test_class_index_must_be_a_whole_zero_or_one(masked, class_index):
    with pytest.raises(TypeError, match=r"class_index must be 0 \(cat\), 1 \(dog\), None"):
        gradcam.grad_cam(masked, random_photos(2), class_index=class_index)


def test_class_index_count_and_batch_size_are_checked(masked):
    with pytest.raises(ValueError, match=r"class_index.*\(2 photos, 3 class indices\)"):
        gradcam.grad_cam(masked, random_photos(2), class_index=[0, 1, 1])
    with pytest.raises(ValueError, match="batch_size must be 1 or more"):
        gradcam.grad_cam(masked, random_photos(2), batch_size=0)
    np.testing.assert_array_equal(
        gradcam.grad_cam(masked, random_photos(2), class_index=np.array([True, False])),
        gradcam.grad_cam(masked, random_photos(2), class_index=[1, 0]),
    )


def test_randomized_copy_leaves_the_global_random_generators_alone(masked):
    import random

    import keras

    def draws():
        return random.random(), float(np.random.random())  # noqa: NPY002 - the global generator, on purpose

    random.seed(11)
    np.random.seed(11)  # noqa: NPY002
    expected = draws()
    random.seed(11)
    np.random.seed(11)  # noqa: NPY002
    copy = heatmaps.randomized_copy(masked, seed=1)
    assert draws() == expected  # neither reseeded nor advanced
    keras.utils.set_random_seed(1)  # the former way: the copy's weights are unchanged
    former = keras.models.clone_model(masked)
    for new, old in zip(copy.weights, former.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(new), np.asarray(old))


def test_deletion_fill_must_be_a_pixel_value():
    model = colour_model()
    photos = np.stack([red_and_green_photo()])
    with pytest.raises(ValueError, match=r"fill must be a pixel value in \[0, 1\]"):
        heatmaps.deletion_curve(model, photos, None, class_index=1, fill=255.0)
