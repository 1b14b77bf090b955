"""Sub-models and compiled functions of a model, built once: the one cache, truncated chains, quiet tracing.

Every technique keeps its sub-models and compiled functions in the one per-model cache
(:func:`cached`), cuts a chain model at a layer with :func:`truncated_model` (at any input size),
and traces its ``tf.function`` s under :func:`quiet_tensorflow`.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

__all__ = ["cached", "quiet_tensorflow", "smallest_input_size", "truncated_model"]


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""model -> {key: sub-model or compiled function}; an entry goes when its model goes."""


def cached(model: keras.Model, key: Hashable, build: Callable[[], Any]) -> Any:
    """The cached value for ``(model, key)``, built by ``build()`` on first use.

    The one cache of sub-models and compiled functions. ``key`` must hold every setting the
    value depends on (start it with the technique's name), so that a call with other settings
    never gets a function built for the old ones.
    """
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]



@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TensorFlow's Python warnings (e.g. "retracing") during a call: one traced function per
    setting is intended here, and notebook outputs must not change from run to run."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)



def truncated_model(model: keras.Model, layer, size: int | None = None, include: bool = True) -> keras.Model:
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


def smallest_input_size(model: keras.Model, layer, largest: int = 4096) -> int | None:
    """The smallest square input (pixels) for which ``layer`` still has an output of at least 1 x 1.

    Found by passing shapes through the model's layers in order (a chain model, as
    :func:`truncated_model` assumes); None when that does not work for any size up to ``largest``.
    """
    import keras

    def fits(size: int) -> bool:
        shape: tuple = (1, size, size, int(model.inputs[0].shape[-1]))
        try:
            for current in model.layers:
                if isinstance(current, keras.layers.InputLayer):
                    continue
                shape = tuple(current.compute_output_shape(shape))
                if len(shape) == 4 and any(d is not None and d < 1 for d in shape[1:3]):
                    return False
                if current is layer:
                    return True
        except Exception:  # noqa: BLE001 - Keras raises ValueError or others for too small inputs
            return False
        return False

    def search() -> int | None:
        if not fits(largest):
            return None
        low, high = 1, largest  # output sizes grow with the input size: bisect
        while low < high:
            middle = (low + high) // 2
            if fits(middle):
                high = middle
            else:
                low = middle + 1
        return low

    return cached(model, ("smallest_input_size", layer.name, largest), search)
