"""The errors convlens raises: one base, :class:`ConvlensError`, catches them all.

Each error also derives from the built-in exception that code written before this module
caught (``ValueError``, ``IndexError`` or ``TypeError``), so ``except ValueError`` keeps working.
Their messages name the problem and the fix.
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ChannelRangeError",
    "ConvlensError",
    "IndexRangeError",
    "InputImageError",
    "LayerSelectionError",
]


class ConvlensError(Exception):
    """Base of every error raised by convlens on purpose (bad input, missing data, failed setup)."""


class LayerSelectionError(ConvlensError, ValueError):
    """A layer name, index or type that does not pick a suitable layer of the model."""


class IndexRangeError(ConvlensError, IndexError):
    """An index outside its valid range (an image of a batch, a channel of a layer ...)."""


class ChannelRangeError(IndexRangeError):
    """A channel (filter) index outside ``0 .. channels - 1`` of a layer."""


class InputImageError(ConvlensError, ValueError):
    """Images that are not what the model takes: wrong shape, empty, integer 0-255, NaN, outside [0, 1]."""


class ArgumentError(ConvlensError, ValueError):
    """A setting outside its valid values (a size, a number of steps, a batch size, a class index ...)."""


class ArgumentTypeError(ConvlensError, TypeError):
    """A setting of the wrong type (a float where a whole number is needed ...)."""
