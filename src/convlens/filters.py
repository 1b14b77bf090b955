"""Filter patterns by gradient ascent: the input image that excites one filter most.

The method is the lecture's (Chollet, section 5.4.2): the loss is the mean activation of
filter ``f`` of layer ``L``; starting from gray noise, the input image climbs the gradient of
that loss for 40 steps, the gradient being divided by its root mean square (plus 1e-5) before
each step. The lecture's numbers are in 0-255 pixel units; the models of this book take inputs
in [0, 1], so the start and the step are scaled by 1/255 here, in :data:`PIXEL_SCALE` and the
constants below, and only here (a step of 1.0 in [0, 1] units would wipe the image out).

:func:`filter_patterns` optimizes many filters at once: one compiled (``tf.function``)
computation on a model truncated at the layer, where element ``i`` of the batch is the image of
filter ``indices[i]`` and its gradient is normalized by its own RMS, so that every element
follows exactly the path it would follow alone (:func:`reference_filter_pattern`, the plain
eager loop, one filter at a time, is kept for tests and benchmarks). Arrays in, arrays out:
nothing here draws.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Sequence

import numpy as np

PIXEL_SCALE = 1.0 / 255.0
"""Lecture pixel units (0-255) -> this book's model inputs ([0, 1])."""

STEPS = 40
"""Gradient-ascent steps, as in the lecture."""

STEP_SIZE = 1.0 * PIXEL_SCALE
"""One step moves the image by the RMS-normalized gradient times this: 1.0 in 0-255 units."""

NOISE_AMPLITUDE = 20.0 * PIXEL_SCALE
"""Start: uniform noise in [0, 1) times this (20 in 0-255 units) ..."""

NOISE_OFFSET = 128.0 * PIXEL_SCALE
"""... plus this (128 in 0-255 units): gray with a little noise."""

GRADIENT_EPSILON = 1e-5
"""Added to the gradient's RMS before dividing by it (the first edition's rule)."""

PATTERN_SIZE = 150
"""Height and width of the optimized images (the lecture's ``size=150``)."""

DEPROCESS_STD = 0.1
""":func:`deprocess_image` scales each image to this standard deviation around 0.5."""

JITTER_PIXELS = 4
"""Regularized ascent: the image is shifted by up to this many pixels before each step."""

BLUR_SIGMA = 0.7
"""Regularized ascent: standard deviation (pixels) of the Gaussian blur applied every few steps."""

BLUR_EVERY = 4
"""Regularized ascent: blur once every this many steps."""

JIT_COMPILE = False
"""Compile the ascent with XLA. Off: on 2 CPU cores it measured 2 to 4 times slower than TensorFlow's
default graph (16 filters of ``conv2d_4``, 10 steps, at 96 and 150 pixels); worth trying on a GPU."""

_CONV_TYPES = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose")
_POOL_TYPES = ("MaxPooling2D", "AveragePooling2D")


def start_image(index: int, seed: int = 0, size: int = PATTERN_SIZE, channels: int = 3) -> np.ndarray:
    """The lecture's start for filter ``index``: gray plus uniform noise, (size, size, 3), [0, 1] units.

    The noise depends on ``(seed, index)`` only, so a filter starts from the same image whether
    it is optimized alone or in a batch with others.
    """
    rng = np.random.default_rng((int(seed), int(index)))
    noise = rng.random((size, size, channels), dtype=np.float64)
    return (noise * NOISE_AMPLITUDE + NOISE_OFFSET).astype(np.float32)


def deprocess_image(x: np.ndarray) -> np.ndarray:
    """An optimized input -> a displayable uint8 RGB image (the lecture's ``deprocess_image``).

    Centre on 0, scale to standard deviation :data:`DEPROCESS_STD`, shift to 0.5, clip to
    [0, 1], times 255. Accepts one image (H, W, 3) or a batch (N, H, W, 3), each deprocessed
    on its own.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 4:
        return np.stack([deprocess_image(image) for image in x])
    if x.ndim != 3:
        raise ValueError(f"deprocess_image expects an (H, W, C) image or an (N, H, W, C) batch; got shape {x.shape}.")
    x = x - x.mean()
    x = x / (x.std() + 1e-5) * DEPROCESS_STD + 0.5
    return (np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def scaled_input(model, scale: float = 255.0, size: int | None = None):
    """``model`` behind a ``Rescaling(scale)`` layer: it takes [0, 1] inputs and sees them times ``scale``.

    Keras' VGG16 works on 0-255 pixel values, and the lecture feeds it its gray noise (128 + 20 u)
    directly, with a step of 1.0; wrapped this way it takes this book's [0, 1] inputs, so the same
    constants (:data:`NOISE_OFFSET`, :data:`STEP_SIZE` ...) reproduce the lecture exactly. The
    layers (and weights) are the model's own, under their own names.
    """
    import keras

    channels = int(model.inputs[0].shape[-1])
    inputs = keras.Input(shape=(size, size, channels), name="image_0_1")
    x = keras.layers.Rescaling(scale, name="to_pixel_values")(inputs)
    for layer in model.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            x = layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_0_1")


def pattern_layer_names(model) -> list[str]:
    """Names of the layers whose filters can be visualized: convolutions and 2-D poolings."""
    return [layer.name for layer in model.layers if type(layer).__name__ in _CONV_TYPES + _POOL_TYPES]


def check_pattern_layer(model, layer_name: str):
    """The layer ``layer_name`` of ``model`` if it is a convolution or 2-D pooling, else a clear error."""
    valid = pattern_layer_names(model)
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise ValueError(
            f"Model {model.name!r} has no layer named {layer_name!r}; layers with filters: {', '.join(valid)}."
        ) from None
    if layer.name not in valid:
        raise ValueError(
            f"Layer {layer_name!r} is a {type(layer).__name__}, not a convolution or pooling layer, so it has no "
            f"filters to visualize; choose one of: {', '.join(valid)}."
        )
    return layer


def _check_indices(layer, indices: Sequence[int]) -> np.ndarray:
    channels = int(layer.output.shape[-1])
    values = np.asarray(list(indices))
    if values.ndim != 1 or values.size == 0:
        raise ValueError("indices must be a non-empty list of filter numbers.")
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"Filter indices must be integers; got {values.dtype}.")
    bad = [int(v) for v in values if not 0 <= v < channels]
    if bad:
        raise IndexError(
            f"Filter index {bad[0]} is out of range for layer {layer.name!r}, which has {channels} filters "
            f"(valid: 0 to {channels - 1})."
        )
    return values.astype(np.int32)


OBJECTIVES = ("activation", "pre_activation", "auto")
"""What the ascent maximizes: ``"activation"``, the lecture's mean activation (after the ReLU);
``"pre_activation"``, the mean value before the layer's activation function, which still has a
gradient for a filter that does not fire anywhere on its start image (a "silent" filter, where
the lecture's loss is flat and the image never moves); ``"auto"``, the lecture's loss for the
filters that fire on their start and the pre-activation for the silent ones
(:func:`silent_filters`)."""


def _truncated(model, layer, size: int | None, include: bool = True):
    """A functional sub-model from the input to ``layer``'s output (or input), at ``size`` x ``size`` pixels.

    Where the model's input has another fixed size (the small convnet is built for 150 x 150),
    its layers are called again, in order, on a new input of the requested size: the same layer
    objects, so the same weights (for chain models such as the small convnet and VGG16).
    """
    import keras

    shape = tuple(model.inputs[0].shape)
    if size is None or shape[1:3] in ((size, size), (None, None)):
        try:
            return keras.Model(model.inputs, layer.output if include else layer.input)
        except ValueError:  # the layer's first use is in another graph (e.g. under scaled_input): replay below
            pass
    spatial = shape[1:3] if size is None else (size, size)
    inputs = keras.Input(shape=(*spatial, shape[-1]), name=f"image_{size}")
    x = inputs
    for current in model.layers:
        if isinstance(current, keras.layers.InputLayer):
            continue
        if current is layer and not include:
            break
        x = current(x)
        if current is layer:
            break
    return keras.Model(inputs, x, name=f"{model.name}_{size}_to_{layer.name}")


def _feature_extractor(model, layer_name: str, objective: str = "activation", size: int | None = None):
    """A callable: images -> the layer's feature maps (or pre-activations), cached per model."""
    if objective not in OBJECTIVES[:2]:
        raise ValueError(f"Unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}.")
    per_model = _EXTRACTORS.setdefault(model, {})
    key = (layer_name, objective, size)
    if key in per_model:
        return per_model[key]
    layer = check_pattern_layer(model, layer_name)
    if objective == "activation":
        per_model[key] = _truncated(model, layer, size)
        return per_model[key]
    conv, pool = layer, None
    if type(layer).__name__ in _POOL_TYPES:
        conv, pool = layer.input._keras_history.operation, layer  # max(relu(z)) = relu(max(z))
        if type(conv).__name__ not in _CONV_TYPES:
            raise ValueError(
                f"objective='pre_activation' needs pooling layer {layer_name!r} to follow a convolution; "
                f"it follows {conv.name!r} ({type(conv).__name__})."
            )
    below = _truncated(model, conv, size, include=False)

    def pre_activation(images, training=False):
        z = conv.convolution_op(below(images, training=training), conv.kernel)
        if conv.use_bias:
            z = z + conv.bias
        return pool(z) if pool is not None else z

    per_model[key] = pre_activation
    return per_model[key]


_EXTRACTORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ASCENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _gaussian_kernel(sigma: float, channels: int) -> np.ndarray:
    radius = max(1, int(np.ceil(2 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k1 = np.exp(-0.5 * (x / sigma) ** 2)
    k1 /= k1.sum()
    k2 = np.outer(k1, k1)
    return np.repeat(k2[:, :, None, None], channels, axis=2).astype(np.float32)


def _compiled_ascent(model, layer_name: str, regularized: bool, channels: int, objective: str, size: int):
    """A ``tf.function`` running ``n`` ascent steps on a batch (one filter per element), cached."""
    import tensorflow as tf

    key = (layer_name, regularized, channels, objective, size, JITTER_PIXELS, BLUR_SIGMA, BLUR_EVERY)
    per_model = _ASCENTS.setdefault(model, {})
    if key in per_model:
        return per_model[key]
    extractor = _feature_extractor(model, layer_name, objective, size)
    kernel = tf.constant(_gaussian_kernel(BLUR_SIGMA, channels))
    radius = kernel.shape[0] // 2

    def mean_activations(images, indices):
        features = extractor(images, training=False)
        chosen = tf.gather(features, indices, axis=-1, batch_dims=1)  # (N, h, w): each element's own filter
        return tf.reduce_mean(chosen, axis=[1, 2])

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, size, size, channels], tf.float32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.int32),
        ],
        reduce_retracing=True,
        jit_compile=JIT_COMPILE,
    )
    def ascend(images, indices, first_step, n_steps, seed):
        def one_step(step, images):
            shift = tf.zeros([2], tf.int32)
            if regularized:  # a Python choice, fixed when the function is built
                shift = tf.random.stateless_uniform(
                    [2], seed=tf.stack([seed, step]), minval=-JITTER_PIXELS, maxval=JITTER_PIXELS + 1, dtype=tf.int32
                )
                images = tf.roll(images, shift, axis=[1, 2])
            with tf.GradientTape() as tape:
                tape.watch(images)
                loss = tf.reduce_sum(mean_activations(images, indices))  # elements are independent
            grads = tape.gradient(loss, images)
            rms = tf.sqrt(tf.reduce_mean(tf.square(grads), axis=[1, 2, 3], keepdims=True))  # each element's own
            images = images + grads / (rms + GRADIENT_EPSILON) * STEP_SIZE
            if regularized:
                images = tf.roll(images, -shift, axis=[1, 2])
                images = tf.cond(
                    (step + 1) % BLUR_EVERY == 0,
                    lambda: tf.nn.depthwise_conv2d(
                        tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT"),
                        kernel, [1, 1, 1, 1], "VALID",
                    ),
                    lambda: images,
                )
            return step + 1, images

        _, images = tf.while_loop(
            lambda step, _: step < first_step + n_steps,
            one_step,
            (first_step, images),
            shape_invariants=(first_step.shape, tf.TensorShape([None, size, size, channels])),
        )
        return images

    mean_signature = [tf.TensorSpec([None, size, size, channels], tf.float32), tf.TensorSpec([None], tf.int32)]
    per_model[key] = (ascend, tf.function(mean_activations, input_signature=mean_signature))
    return per_model[key]


def filter_patterns(
    model,
    layer_name: str,
    indices: Sequence[int],
    steps: int = STEPS,
    seed: int = 0,
    size: int = PATTERN_SIZE,
    start: np.ndarray | None = None,
    regularized: bool = False,
    objective: str = "activation",
    deprocess: bool = True,
    batch_size: int = 64,
    callback: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """The patterns of filters ``indices`` of ``layer_name``, optimized together in one compiled batch.

    Returns (N, size, size, 3) uint8 images (or, with ``deprocess=False``, the raw optimized
    inputs in [0, 1] units, float32). The start is :func:`start_image` for each filter (or
    ``start``, an (N, H, W, 3) batch). ``regularized=True`` adds random jitter before each step
    and a small Gaussian blur every :data:`BLUR_EVERY` steps (see the chapter's "going further");
    ``objective="pre_activation"`` climbs the value before the ReLU, ``"auto"`` does so only for
    the filters that are silent on their start (see :data:`OBJECTIVES`).
    ``callback(done, total)`` is called after each step when given (progress bars); without it
    all steps run inside one compiled call. ``batch_size`` bounds the memory used at once.
    """
    import tensorflow as tf

    layer = check_pattern_layer(model, layer_name)
    values = _check_indices(layer, indices)
    if steps < 0:
        raise ValueError(f"steps must be 0 or more; got {steps}.")
    if start is None:
        channels = int(model.inputs[0].shape[-1])
        images = np.stack([start_image(int(i), seed, size, channels) for i in values])
    else:
        images = np.asarray(start, dtype=np.float32)
        if images.ndim != 4 or images.shape[0] != len(values):
            raise ValueError(f"start must be a batch of {len(values)} images (N, H, W, C); got shape {images.shape}.")
        channels, size = images.shape[-1], images.shape[1]
    if objective not in OBJECTIVES:
        raise ValueError(f"Unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}.")
    if objective == "auto":
        silent = silent_filters(model, layer_name, values, start=images)
        raw = np.empty_like(images)
        offset = 0
        for part, mask in (("activation", ~silent), ("pre_activation", silent)):
            if not mask.any():
                continue
            tick = None
            if callback is not None:
                def tick(done, _total, offset=offset):
                    callback(offset + done, steps * len(values))
            raw[mask] = filter_patterns(
                model, layer_name, values[mask], steps=steps, seed=seed, start=images[mask], regularized=regularized,
                objective=part, deprocess=False, batch_size=batch_size, callback=tick,
            )
            offset += steps * int(mask.sum())
        return deprocess_image(raw) if deprocess else raw
    ascend, _ = _compiled_ascent(model, layer_name, regularized, channels, objective, size)
    chunk = 1 if callback is not None else max(steps, 1)
    results = []
    total = steps * len(values)
    done = 0
    for lo in range(0, len(values), batch_size):
        batch = tf.constant(images[lo : lo + batch_size])
        batch_indices = tf.constant(values[lo : lo + batch_size])
        for first in range(0, steps, chunk):
            n = min(chunk, steps - first)
            with _quiet_tensorflow():
                batch = ascend(batch, batch_indices, tf.constant(first), tf.constant(n), tf.constant(int(seed)))
            done += n * int(batch_indices.shape[0])
            if callback is not None:
                callback(done, total)
        results.append(batch.numpy())
    raw = np.concatenate(results)
    return deprocess_image(raw) if deprocess else raw


def filter_pattern(model, layer_name: str, index: int, **kwargs) -> np.ndarray:
    """The pattern of one filter: :func:`filter_patterns` for ``[index]``, as one (H, W, 3) image."""
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"index must be one integer filter number; got {index!r} (use filter_patterns for many).")
    return filter_patterns(model, layer_name, [index], **kwargs)[0]


def mean_filter_activations(model, layer_name: str, images: np.ndarray, indices: Sequence[int] | None = None):
    """Mean activation of filter ``indices[i]`` of ``layer_name`` on image ``i`` (N values).

    With ``indices=None``: the mean activation of every filter on every image, (N, filters),
    for selectivity checks. Images are model inputs ([0, 1] units), not deprocessed uint8.
    """
    import tensorflow as tf

    layer = check_pattern_layer(model, layer_name)
    images = np.asarray(images, dtype=np.float32)
    extractor = _feature_extractor(model, layer_name, size=images.shape[1])
    if indices is None:
        return extractor(tf.constant(images), training=False).numpy().mean(axis=(1, 2))
    values = _check_indices(layer, indices)
    if len(values) != len(images):
        raise ValueError(f"Got {len(images)} images for {len(values)} filter indices; pass one image per filter.")
    _, mean_activations = _compiled_ascent(model, layer_name, False, images.shape[-1], "activation", images.shape[1])
    with _quiet_tensorflow():
        return mean_activations(tf.constant(images), tf.constant(values)).numpy()


def silent_filters(
    model, layer_name: str, indices: Sequence[int], seed: int = 0, size: int = PATTERN_SIZE,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Which filters do not fire anywhere on their start image (True: silent, so no gradient).

    The lecture's loss is the mean of a ReLU output; where that output is zero everywhere its
    gradient is exactly zero and gradient ascent never moves the image.
    """
    if start is None:
        start = np.stack([start_image(int(i), seed, size) for i in indices])
    return mean_filter_activations(model, layer_name, start, indices) <= 0.0


@contextlib.contextmanager
def _quiet_tensorflow():
    """Silence TensorFlow's Python warnings (e.g. "retracing") during a call: one traced function per layer
    is intended here, and notebook outputs must not change from run to run."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def reference_filter_pattern(
    model, layer_name: str, index: int, steps: int = STEPS, seed: int = 0, size: int = PATTERN_SIZE,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """The plain way, for tests and benchmarks: eager ``GradientTape``, one filter, raw optimized input.

    Same start, steps and normalization as :func:`filter_patterns` (``deprocess=False``), written
    as the lecture writes it, without batching or compilation.
    """
    import tensorflow as tf

    layer = check_pattern_layer(model, layer_name)
    (index,) = _check_indices(layer, [index])
    image = start_image(int(index), seed, size) if start is None else np.asarray(start, dtype=np.float32)
    extractor = _truncated(model, layer, image.shape[0])
    image = tf.Variable(image[None])
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(extractor(image, training=False)[:, :, :, index])
        grads = tape.gradient(loss, image)
        grads = grads / (tf.sqrt(tf.reduce_mean(tf.square(grads))) + GRADIENT_EPSILON)
        image.assign_add(grads * STEP_SIZE)
    return image.numpy()[0]
