"""The checks of every argument the techniques take: whole numbers, numbers, channels, sizes, batches.

Whole numbers with :func:`check_int`, other numbers with :func:`check_number`, channel (filter)
numbers with :func:`check_channels`, an image size (height, width) with :func:`check_size`;
images and maps with :func:`as_batch`, the one batch-axis and input check; a batch is walked with
:func:`batch_slices`. Errors come from :mod:`convlens.errors` and name the problem and the fix.
Nothing here depends on Keras, the photos or a model's layers (:mod:`convlens.layers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from .errors import ArgumentError, ArgumentTypeError, ChannelRangeError, InputImageError

if TYPE_CHECKING:
    import keras

__all__ = [
    "as_batch",
    "batch_slices",
    "check_channels",
    "check_int",
    "check_number",
    "check_size",
]


# --------------------------------------------------------------------------- whole numbers and channels


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None, why: str = "") -> int:
    """``value`` as an ``int`` if it is a whole number in ``minimum..maximum``, else a clear error naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{name} must be a whole number (an int); got {value!r}.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"{minimum} or more" if maximum is None else f"at most {maximum}" if minimum is None else (
            f"from {minimum} to {maximum}")
        raise ArgumentError(f"{name} must be {bounds}{why}; got {value}.")
    return value


def check_number(name: str, value, minimum: float | None = None, allow_minimum: bool = True) -> float:
    """``value`` as a finite ``float``, at least ``minimum`` (above it with ``allow_minimum=False``), else an error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"{name} must be a number; got {value!r}.")
    value = float(value)
    low = minimum is not None and (value < minimum or (value == minimum and not allow_minimum))
    if not np.isfinite(value) or low:
        bound = "" if minimum is None else f" {minimum:g} or more" if allow_minimum else f" above {minimum:g}"
        raise ArgumentError(f"{name} must be a finite number{bound}; got {value}.")
    return value


def check_channels(layer_name: str, indices, count: int, noun: str = "channel") -> np.ndarray:
    """Channel (or filter) numbers ``indices`` of a layer with ``count`` channels, as an int32 array.

    A non-empty list of whole numbers in ``0 .. count - 1``; anything else raises an error that
    names the layer and the valid range.
    """
    if np.ndim(indices) == 0:
        raise ArgumentTypeError(f"The {noun}s must be a list of {noun} numbers, e.g. [{indices!r}]; got one value.")
    values = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices)
    if values.ndim != 1 or values.size == 0:
        raise ArgumentError(f"The {noun}s must be a non-empty list of {noun} numbers; got {indices!r}.")
    if values.dtype == bool or not np.issubdtype(values.dtype, np.integer):
        raise ArgumentTypeError(f"{noun.capitalize()} numbers must be integers in 0..{count - 1} for layer "
                                f"{layer_name!r}; got {values.dtype} values.")
    bad = [int(v) for v in values if not 0 <= v < count]
    if bad:
        raise ChannelRangeError(f"{noun.capitalize()} {bad[0]} is out of range for layer {layer_name!r}, which has "
                                f"{count} {noun}s: choose a {noun} in 0..{count - 1}.")
    return values.astype(np.int32)

def check_size(size, name: str = "target_size") -> tuple[int, int]:
    """``size`` as (height, width), two whole numbers of at least 1 (:func:`check_int`)."""
    if np.ndim(size) != 1 or len(size) != 2:
        raise ArgumentError(f"{name} must be (height, width), two whole numbers of at least 1; got {size!r}.")
    return check_int(f"{name}'s height", size[0], 1), check_int(f"{name}'s width", size[1], 1)


# --------------------------------------------------------------------------- images, maps and batches


def as_batch(
    images, model: keras.Model | None = None, unit_range: bool = True, what: str = "images", *,
    item_ndim: int = 3, bounds: tuple[float | None, float | None] | None = None,
) -> np.ndarray:
    """One item or a batch of them as a finite, non-empty float32 batch: the one batch-axis and input check.

    An item is an image or feature maps (H, W, C), or with ``item_ndim=2`` a heatmap (h, w).
    ``unit_range=True`` (model inputs, as :func:`convlens.images.load_image` makes them): floats in
    [0, 1], never integer (0-255) or boolean arrays; with ``model``, its input height, width and
    channels. ``unit_range=False``: any numbers, within ``bounds`` = (low, high) if given (None: open).
    """
    array = np.asarray(images)
    if unit_range and (array.dtype == bool or np.issubdtype(array.dtype, np.integer)):
        span = f", values {array.min()}..{array.max()}" if array.size else ""
        raise InputImageError(
            f"The {what} are {array.dtype} integers{span}; the models take float images with values in [0, 1]: "
            "divide 0-255 values by 255.0, or load photos with convlens.images.load_image or load_split_arrays."
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise InputImageError(f"The {what} must be a float array (N, H, W, 3); got dtype {array.dtype}.")
    array = array.astype(np.float32, copy=False)
    if array.ndim == item_ndim:
        array = array[None]
    if array.ndim != item_ndim + 1:
        item, batch = ("(H, W, C)", "(N, H, W, C)") if item_ndim == 3 else ("(h, w)", "(N, h, w)")
        raise InputImageError(f"Expected one {what.removesuffix('s')} {item} or a batch {batch}; got {array.shape}.")
    if len(array) == 0:
        raise InputImageError(f"The batch of {what} is empty (shape {array.shape}); pass at least one.")
    if model is not None:
        _check_input_shape(array, model)
    if not np.all(np.isfinite(array)):
        raise InputImageError(f"The {what} hold NaN or infinite values; pass finite values.")
    _check_bounds(array, (0.0, 1.0) if unit_range else bounds, what)
    return array


def _check_input_shape(array: np.ndarray, model: keras.Model) -> None:
    expected = tuple(model.inputs[0].shape[1:])
    if any(e is not None and e != a for e, a in zip(expected, array.shape[1:], strict=True)):
        shown = ", ".join("any" if e is None else str(e) for e in expected)
        raise InputImageError(
            f"Expected images of shape (N, {shown}) for model {model.name!r}, got {array.shape}; "
            "load photos with convlens.images.load_image or load_split_arrays."
        )


def _check_bounds(array: np.ndarray, bounds, what: str) -> None:
    if bounds is None:
        return
    low, high = bounds
    values = float(array.min()), float(array.max())
    if (low is None or values[0] >= low) and (high is None or values[1] <= high):
        return
    if high is None:
        raise InputImageError(f"The {what} must be non-negative; got values down to {values[0]:.3g}.")
    hint = " These look like 0-255 pixel values: divide them by 255.0." if values[1] > 2 else ""
    raise InputImageError(f"The {what} must lie in [{low:g}, {high:g}] (got {values[0]:.3g}..{values[1]:.3g})."
                          f"{hint} Load photos with convlens.images.load_image or load_split_arrays.")


def batch_slices(count: int, batch_size: int) -> Iterator[slice]:
    """Slices of ``batch_size`` items (the last one shorter) covering ``count`` items: the one batcher."""
    batch_size = check_int("batch_size", batch_size, 1)
    for start in range(0, count, batch_size):
        yield slice(start, min(start + batch_size, count))
