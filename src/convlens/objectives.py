"""What a filter-pattern ascent climbs: objective objects that add and scale, as lucent's ``objectives``.

An objective maps a batch's feature maps of the target layer to one number per element: element
``i`` of the batch is the image of filter ``indices[i]``, and its objective reads that filter's
channel only, so the elements of one batch never mix. :class:`ChannelMean` is the lecture's loss
(the mean of the filter's map), :class:`ChannelCentre` the value at the centre of the map (one
neuron, lucent's ``neuron``); either reads the layer's output or, with ``pre_activation=True``,
the value before the layer's activation function (which still has a gradient where a ReLU is off
everywhere). ``a + b``, ``a - b`` and ``0.5 * a`` build a :class:`Mix`, a weighted sum.

Objectives are frozen, hashable dataclasses: they are part of the key of the compiled ascent
(:func:`convlens.ascent.compiled_ascent`), so two equal objectives share one compiled function.
Only the layer's maps are read here; which layer, and at which input size, is the ascent's target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .checks import check_number
from .errors import ArgumentTypeError

__all__ = ["ChannelCentre", "ChannelMean", "Mix", "Objective"]


class Objective:
    """Base of the objectives: ``objective(maps, indices)`` -> (N,) values, one per batch element.

    ``maps`` holds the layer's feature maps (N, h, w, filters) under ``False`` (the output) and
    the pre-activations under ``True``, for the taps in :attr:`taps`; ``indices`` (N,) gives each
    element's filter. Subclasses are frozen dataclasses and define ``__call__`` and :attr:`taps`.
    """

    taps: frozenset[bool]
    """Which maps the objective reads: ``False`` the layer's output, ``True`` its pre-activation."""

    def __call__(self, maps: Mapping[bool, Any], indices) -> Any:
        raise NotImplementedError

    def terms(self) -> tuple[tuple[float, Objective], ...]:
        """``(weight, objective)`` pairs whose weighted sum this objective is (itself, weight 1)."""
        return ((1.0, self),)

    def __add__(self, other: Objective) -> Mix:
        if not isinstance(other, Objective):
            return NotImplemented
        return Mix(self.terms() + other.terms())

    def __mul__(self, weight: float) -> Mix:
        if isinstance(weight, Objective):
            return NotImplemented
        weight = check_number("an objective's weight", weight)
        return Mix(tuple((weight * w, term) for w, term in self.terms()))

    __rmul__ = __mul__

    def __neg__(self) -> Mix:
        return self * -1.0

    def __sub__(self, other: Objective) -> Mix:
        if not isinstance(other, Objective):
            return NotImplemented
        return self + -other


def _own_channel(maps, indices):
    """(N, h, w): each element's own filter's map."""
    import tensorflow as tf

    return tf.gather(maps, indices, axis=-1, batch_dims=1)


@dataclass(frozen=True)
class ChannelMean(Objective):
    """The mean of each element's filter map: the lecture's loss (``pre_activation=False``)."""

    pre_activation: bool = False
    """Read the value before the layer's activation function instead of its output."""

    @property
    def taps(self) -> frozenset[bool]:
        return frozenset({bool(self.pre_activation)})

    def __call__(self, maps, indices):
        import tensorflow as tf

        return tf.reduce_mean(_own_channel(maps[bool(self.pre_activation)], indices), axis=[1, 2])


@dataclass(frozen=True)
class ChannelCentre(Objective):
    """The value at the centre of each element's filter map: one neuron, whose receptive field is centred."""

    pre_activation: bool = False
    """Read the value before the layer's activation function instead of its output."""

    @property
    def taps(self) -> frozenset[bool]:
        return frozenset({bool(self.pre_activation)})

    def __call__(self, maps, indices):
        import tensorflow as tf

        chosen = _own_channel(maps[bool(self.pre_activation)], indices)
        shape = tf.shape(chosen)
        return chosen[:, shape[1] // 2, shape[2] // 2]


@dataclass(frozen=True)
class Mix(Objective):
    """A weighted sum of objectives, ``sum(weight * objective)``: built by ``+``, ``-`` and ``*``."""

    parts: tuple[tuple[float, Objective], ...]
    """``(weight, objective)`` pairs, none of them a :class:`Mix` (``+`` flattens them)."""

    def __post_init__(self) -> None:
        if not self.parts or not all(isinstance(term, Objective) and not isinstance(term, Mix)
                                     for _, term in self.parts):
            raise ArgumentTypeError("A Mix needs (weight, objective) pairs; build it with + and * of objectives, "
                                    "e.g. ChannelMean() + 0.5 * ChannelCentre().")

    @property
    def taps(self) -> frozenset[bool]:
        return frozenset().union(*(term.taps for _, term in self.parts))

    def terms(self) -> tuple[tuple[float, Objective], ...]:
        return self.parts

    def __call__(self, maps, indices):
        import tensorflow as tf

        return tf.add_n([weight * term(maps, indices) for weight, term in self.parts])
