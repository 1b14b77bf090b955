"""Every error convlens raises on purpose, in one place: one base, :class:`ConvlensError`, catches them all.

Each error also derives from the built-in exception that code written before this module
caught (``ValueError``, ``IndexError``, ``TypeError``, ``FileNotFoundError`` or ``RuntimeError``),
so ``except ValueError`` keeps working. Their messages name the problem and the fix. No module
of the package defines an exception class of its own or raises a bare ``ValueError`` or
``TypeError`` (``tests/test_errors.py`` checks both).
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "BadFileError",
    "BadModelFileError",
    "ChannelRangeError",
    "CheckpointError",
    "ColabSetupError",
    "ConvlensError",
    "DataNotFoundError",
    "DownloadError",
    "ImageLoadError",
    "IndexRangeError",
    "InputImageError",
    "LayerSelectionError",
    "VGG16WeightsUnavailable",
    "WeightsNotFoundError",
]


class ConvlensError(Exception):
    """Base of every error raised by convlens on purpose (bad input, missing data, failed setup)."""


# --------------------------------------------------------------------------- arguments and inputs


class ArgumentError(ConvlensError, ValueError):
    """A setting outside its valid values (a size, a number of steps, a batch size, a class index ...)."""


class ArgumentTypeError(ConvlensError, TypeError):
    """A setting of the wrong type (a float where a whole number is needed ...)."""


class LayerSelectionError(ConvlensError, ValueError):
    """A layer name, index or type that does not pick a suitable layer of the model."""


class IndexRangeError(ConvlensError, IndexError):
    """An index outside its valid range (an image of a batch, a channel of a layer ...)."""


class ChannelRangeError(IndexRangeError):
    """A channel (filter) index outside ``0 .. channels - 1`` of a layer."""


class InputImageError(ConvlensError, ValueError):
    """Images that are not what the model takes: wrong shape, empty, integer 0-255, NaN, outside [0, 1]."""


class ImageLoadError(InputImageError):
    """A file or array that cannot be turned into a model input (:func:`convlens.images.load_image`)."""


# --------------------------------------------------------------------------- files, data and set-up


class BadFileError(ConvlensError, ValueError):
    """A file whose content is not what it should be (a web page, a truncated download, a damaged zip)."""


class BadModelFileError(BadFileError):
    """A weights file or training record that exists but cannot be used."""


class DataNotFoundError(ConvlensError, RuntimeError):
    """No cats-vs-dogs folder was found and it could not be downloaded (or the download was bad)."""


class DownloadError(ConvlensError, RuntimeError):
    """A download failed or gave a file that is not what it should be; nothing was kept.

    ``reason`` is one of ``"unreachable"`` (no answer: no network, refused, DNS), ``"http"``
    (an HTTP error status), ``"timeout"`` (deadline, read timeout or a rate below the floor),
    ``"truncated"`` (fewer bytes than announced) and ``"invalid"`` (the validator refused the content).
    """

    def __init__(self, message: str, url: str, reason: str):
        super().__init__(message)
        self.url = url
        self.reason = reason


class WeightsNotFoundError(ConvlensError, FileNotFoundError):
    """The committed weights (or training record) of a trained variant are missing."""


class VGG16WeightsUnavailable(ConvlensError, RuntimeError):
    """Keras' ImageNet VGG16 weights could not be loaded (typically: no network)."""


class ColabSetupError(ConvlensError, RuntimeError):
    """The trained weights could not be fetched for a notebook run outside the repository."""


class CheckpointError(ConvlensError, RuntimeError):
    """A checkpoint folder that cannot be resumed from (corrupt, or written by another recipe)."""
