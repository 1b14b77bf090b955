"""Filter patterns by gradient ascent: the input image that excites one filter most.

The method is the lecture's (Chollet, section 5.4.2): the loss is the mean activation of
filter ``f`` of layer ``L``; starting from gray noise, the input image climbs the gradient of
that loss for 40 steps, the gradient being divided by its root mean square (plus 1e-5) before
each step. The lecture's numbers are in 0-255 pixel units; the models of this book take inputs
in [0, 1], so the start and the step are scaled by 1/255 here, in :data:`PIXEL_SCALE` and the
constants below, and only here (a step of 1.0 in [0, 1] units would wipe the image out).

What is climbed is an objective object (:mod:`convlens.objectives`: the lecture's
:class:`~convlens.objectives.ChannelMean`, a map's centre, weighted mixes), with a list of
transforms around each step (:mod:`convlens.transforms`: jitter, blur), in the way of lucent.
:func:`filter_patterns` optimizes many filters at once: one compiled (``tf.function``)
computation on a model truncated at the layer (:mod:`convlens.ascent`), where element ``i`` of
the batch is the image of filter ``indices[i]`` and its gradient is normalized by its own RMS, so
that every element follows exactly the path it would follow alone. The plain eager loop, one
filter at a time, is chapter 3's readable cell, which the tests hold this module to. Arrays in,
arrays out: nothing here draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .ascent import Step, Target, compiled_ascent, compiled_objective, layer_maps, run_ascent
from .checks import as_batch, check_channels, check_int
from .errors import ArgumentError, ArgumentTypeError, InputImageError
from .layers import find_layer
from .objectives import ChannelMean, Objective
from .submodels import quiet_tensorflow, smallest_input_size
from .transforms import Blur, Jitter, Transform

if TYPE_CHECKING:
    import keras

__all__ = [
    "BLUR_EVERY",
    "BLUR_SIGMA",
    "DEPROCESS_STD",
    "GRADIENT_EPSILON",
    "JITTER_PIXELS",
    "JIT_COMPILE",
    "LECTURE_OBJECTIVE",
    "LECTURE_STEP",
    "MAX_PATTERN_SIZE",
    "NOISE_AMPLITUDE",
    "NOISE_OFFSET",
    "PATTERN_BOUNDS",
    "PATTERN_SIZE",
    "PIXEL_SCALE",
    "PRE_ACTIVATION",
    "REGULARIZATION",
    "STEPS",
    "STEP_SIZE",
    "Step",
    "deprocess_image",
    "filter_pattern",
    "filter_patterns",
    "lecture_or_pre_activation",
    "mean_filter_activations",
    "regularization",
    "silent_filters",
    "start_image",
]

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

MAX_PATTERN_SIZE = 1024
"""Largest ``size`` accepted (pixels): memory grows with ``batch_size * size**2`` (``size=2000``
took 2.7 GB for a few filters of the small convnet, ``size=10000`` crashed the process)."""

PATTERN_BOUNDS = (-10.0, 10.0)
"""Values accepted in start images and raw patterns ([0, 1] units): an optimized pattern strays a little
outside [0, 1], a 0-255 image given by mistake (gray 128) lies far outside and is refused."""

LECTURE_OBJECTIVE = ChannelMean()
"""The lecture's objective: the mean of the filter's map, after the activation function."""

PRE_ACTIVATION = ChannelMean(pre_activation=True)
"""The mean of the filter's map before the activation function: it still has a gradient for a
filter that does not fire anywhere on its start image (a "silent" filter, where the lecture's
loss is flat and the image never moves)."""

LECTURE_STEP = Step(STEP_SIZE, GRADIENT_EPSILON)
"""The lecture's RMS-normalized step."""


def regularization(jitter_pixels: int = JITTER_PIXELS, blur_sigma: float = BLUR_SIGMA,
                   blur_every: int = BLUR_EVERY) -> tuple[Transform, ...]:
    """The appendix's transforms: a random shift around each step, then a Gaussian blur every few steps."""
    return Jitter(jitter_pixels), Blur(blur_sigma, blur_every)


REGULARIZATION = regularization()
"""The appendix's regularized ascent (chapter 5b): ``transforms=filters.REGULARIZATION``."""

ObjectiveSpec = Objective | Sequence[Objective]
"""One objective for every filter, or a list of one per filter (see :func:`filter_patterns`)."""


def start_image(
    index: int, seed: int = 0, size: int = PATTERN_SIZE, channels: int = 3,
    noise_amplitude: float = NOISE_AMPLITUDE, noise_offset: float = NOISE_OFFSET,
) -> np.ndarray:
    """The lecture's start for filter ``index``: gray plus uniform noise, (size, size, 3), [0, 1] units.

    ``noise * noise_amplitude + noise_offset`` with ``noise`` uniform in [0, 1). The noise
    depends on ``(seed, index)`` only, so a filter starts from the same image whether it is
    optimized alone or in a batch with others.
    """
    rng = np.random.default_rng((check_int("seed", seed, 0), check_int("index", index, 0)))
    noise = rng.random((check_int("size", size, 1), size, channels), dtype=np.float64)
    return (noise * noise_amplitude + noise_offset).astype(np.float32)


def deprocess_image(x: np.ndarray, std: float = DEPROCESS_STD) -> np.ndarray:
    """An optimized input -> a displayable uint8 RGB image (the lecture's ``deprocess_image``).

    Centre on 0, scale to standard deviation ``std``, shift to 0.5, clip to [0, 1], times 255.
    Accepts one image (H, W, 3) or a batch (N, H, W, 3), each deprocessed on its own.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 4:
        return np.stack([deprocess_image(image, std) for image in x])
    if x.ndim != 3:
        raise ArgumentError(
            f"deprocess_image expects an (H, W, C) image or an (N, H, W, C) batch; got shape {x.shape}."
        )
    x = x - x.mean()
    x = x / (x.std() + 1e-5) * std + 0.5
    return (np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _check_indices(layer, indices: Sequence[int]) -> np.ndarray:
    return check_channels(layer.name, indices, int(layer.output.shape[-1]), noun="filter")


def _check_size(model: keras.Model, layer, size) -> int:
    """``size`` if ``layer`` has an output at that input size and it is at most :data:`MAX_PATTERN_SIZE`."""
    size = check_int("size", size, 1, MAX_PATTERN_SIZE, why=" pixels (larger images need gigabytes of memory)")
    smallest = smallest_input_size(model, layer)
    if smallest is not None and size < smallest:
        raise ArgumentError(
            f"size={size} is too small for layer {layer.name!r}: its output would be empty. "
            f"Use size {smallest} or more (at most {MAX_PATTERN_SIZE})."
        )
    return size


def _starts(model: keras.Model, layer, values: np.ndarray, seed: int, size, start) -> tuple[Target, np.ndarray]:
    """The checked target and the start images: :func:`start_image` of each filter, or ``start`` checked."""
    channels = int(model.inputs[0].shape[-1])
    if start is None:
        size = _check_size(model, layer, size)
        return Target(model, layer, size), np.stack([start_image(int(i), seed, size, channels) for i in values])
    images = as_batch(start, unit_range=False, what="start images", bounds=PATTERN_BOUNDS)
    if images.shape[0] != len(values) or images.shape[1] != images.shape[2] or images.shape[-1] != channels:
        raise InputImageError(
            f"start must be a batch of {len(values)} square images (N, H, H, {channels}), one per filter; "
            f"got shape {images.shape}."
        )
    return Target(model, layer, _check_size(model, layer, images.shape[1])), images


def _objective_values(target: Target, objective: Objective, images: np.ndarray, values: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    with quiet_tensorflow():
        return compiled_objective(target, objective)(tf.constant(images), tf.constant(values)).numpy()


def lecture_or_pre_activation(silent: Sequence[bool]) -> list[Objective]:
    """Per filter: the lecture's objective, or :data:`PRE_ACTIVATION` for a filter silent on its start.

    The chapters' objective, ``lecture_or_pre_activation(silent_filters(...))``: the lecture's
    loss wherever it has a gradient.
    """
    return [PRE_ACTIVATION if is_silent else LECTURE_OBJECTIVE for is_silent in silent]


def _per_filter(objective: ObjectiveSpec, count: int) -> list[Objective]:
    """One objective per filter, from one objective or a list of them."""
    objectives = [objective] * count if isinstance(objective, Objective) else list(objective)
    if len(objectives) != count or not all(isinstance(o, Objective) for o in objectives):
        raise ArgumentTypeError(f"objective must be an objective of convlens.objectives (e.g. ChannelMean()), "
                                f"or a list of {count}, one per filter; got {objective!r}.")
    return objectives


def _check_transforms(transforms: Sequence[Transform]) -> tuple[Transform, ...]:
    transforms = tuple(transforms)
    if not all(isinstance(t, Transform) for t in transforms):
        raise ArgumentTypeError(f"transforms must be a list of convlens.transforms objects (Jitter, Blur), "
                                f"e.g. filters.REGULARIZATION; got {transforms!r}.")
    return transforms


def filter_patterns(  # noqa: PLR0913 - the lecture's settings, each with its default
    model: keras.Model,
    layer_name: str,
    indices: Sequence[int],
    steps: int = STEPS,
    seed: int = 0,
    size: int = PATTERN_SIZE,
    start: np.ndarray | None = None,
    objective: ObjectiveSpec = LECTURE_OBJECTIVE,
    transforms: Sequence[Transform] = (),
    deprocess: bool = True,
    batch_size: int = 64,
    callback: Callable[[int, int], None] | None = None,
    *,
    step: Step = LECTURE_STEP,
    jit_compile: bool = JIT_COMPILE,
) -> np.ndarray:
    """The patterns of filters ``indices`` of ``layer_name``, optimized together in one compiled batch.

    Returns (N, size, size, 3) uint8 images (or, with ``deprocess=False``, the raw optimized
    inputs in [0, 1] units, float32). The start is :func:`start_image` for each filter (or
    ``start``, an (N, H, W, 3) batch). Each step climbs ``objective`` (one objective, or a list of
    one per filter) by the RMS-normalized gradient (``step``), wrapped by ``transforms`` (e.g.
    :data:`REGULARIZATION`). The defaults are the lecture's (module constants).
    ``callback(done, total)`` is called after each step when given (progress bars); without it
    all steps run inside one compiled call. ``batch_size`` bounds the memory used at once.
    ``size`` must lie between the layer's smallest valid input and :data:`MAX_PATTERN_SIZE`.
    """
    layer = find_layer(model, layer_name, "filters")
    values = _check_indices(layer, indices)
    steps, seed = check_int("steps", steps, 0), check_int("seed", seed, 0)
    batch_size = check_int("batch_size", batch_size, 1)
    transforms = _check_transforms(transforms)
    if not isinstance(step, Step):
        raise ArgumentTypeError(f"step must be a filters.Step (size, epsilon); got {step!r}.")
    objectives = _per_filter(objective, len(values))
    target, images = _starts(model, layer, values, seed, size, start)
    raw = np.empty_like(images)
    offset = 0
    for chosen in dict.fromkeys(objectives):  # one compiled ascent per distinct objective
        mask = np.array([o == chosen for o in objectives])
        ascend = compiled_ascent(target, chosen, step, transforms, jit_compile)
        raw[mask] = run_ascent(ascend, images[mask], values[mask], steps, seed, batch_size, callback,
                               offset, steps * len(values))
        offset += steps * int(mask.sum())
    return deprocess_image(raw) if deprocess else raw


def filter_pattern(model: keras.Model, layer_name: str, index: int, **kwargs) -> np.ndarray:
    """The pattern of one filter: :func:`filter_patterns` for ``[index]``, as one (H, W, 3) image."""
    index = check_int("index (one filter number; filter_patterns takes many)", index)
    return filter_patterns(model, layer_name, [index], **kwargs)[0]


def mean_filter_activations(
    model: keras.Model, layer_name: str, images: np.ndarray, indices: Sequence[int] | None = None
) -> np.ndarray:
    """Mean activation of filter ``indices[i]`` of ``layer_name`` on image ``i`` (N values).

    With ``indices=None``: the mean activation of every filter on every image, (N, filters),
    for selectivity checks (:func:`convlens.measures.patterns.own_filter_check`). Images are model inputs
    ([0, 1] units, or raw optimized patterns, which may step a little outside), not deprocessed uint8.
    """
    import tensorflow as tf

    layer = find_layer(model, layer_name, "filters")
    images = as_batch(images, unit_range=False, bounds=PATTERN_BOUNDS)
    target = Target(model, layer, _check_size(model, layer, images.shape[1]))
    if indices is None:
        maps = layer_maps(model, layer, target.size)
        return maps(tf.constant(images), training=False).numpy().mean(axis=(1, 2))
    values = _check_indices(layer, indices)
    if len(values) != len(images):
        raise ArgumentError(f"Got {len(images)} images for {len(values)} filter indices; pass one image per filter.")
    return _objective_values(target, LECTURE_OBJECTIVE, images, values)


def silent_filters(
    model: keras.Model, layer_name: str, indices: Sequence[int], seed: int = 0, size: int = PATTERN_SIZE,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Which filters do not fire anywhere on their start image (True: silent, so no gradient).

    The lecture's loss is the mean of a ReLU output; where that output is zero everywhere its
    gradient is exactly zero and gradient ascent never moves the image.
    """
    layer = find_layer(model, layer_name, "filters")
    values = _check_indices(layer, indices)
    target, images = _starts(model, layer, values, check_int("seed", seed, 0), size, start)
    return _objective_values(target, LECTURE_OBJECTIVE, images, values) <= 0.0
