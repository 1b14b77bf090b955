"""The small cats-vs-dogs convnet, its trained weights, and Keras' ImageNet VGG16.

Models are built with the functional API from ``keras.Input`` so that ``model.input``
and every layer's output are defined, which the activation, filter and Grad-CAM
sub-models need. Layer names are fixed (``conv2d_1`` ... ``dense_2``, as in the lecture)
so that notebooks can refer to them across runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from . import paths, settings
from .errors import ArgumentError, BadModelFileError, VGG16WeightsUnavailable, WeightsNotFoundError
from .images import IMAGE_SIZE

__all__ = [
    "HDF5_SIGNATURE",
    "RECORD_KEYS",
    "VGG16_MIN_SIZE",
    "VGG16_SIZE",
    "VGG16_WEIGHTS_FILES",
    "load_trained",
    "load_weights_checked",
    "models_dir",
    "record_summary",
    "records_table",
    "repo_root",
    "small_convnet",
    "training_record",
    "vgg16",
    "weights_path",
]






def small_convnet(dropout: float = 0.0, name: str = "small_convnet"):
    """The lecture's convnet: four Conv2D/MaxPooling blocks, Dense 512, Dense 1 sigmoid.

    With ``dropout > 0`` a Dropout layer (no parameters) sits before the dense layer,
    as in the data-augmentation model; the parameter count is 3,453,121 either way.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(*IMAGE_SIZE, 3), name="image")
    x = inputs
    for block, filters in enumerate((32, 64, 128, 128), start=1):
        x = layers.Conv2D(filters, 3, activation="relu", name=f"conv2d_{block}")(x)
        x = layers.MaxPooling2D(2, name=f"max_pooling2d_{block}")(x)
    x = layers.Flatten(name="flatten_1")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_1")(x)
    x = layers.Dense(512, activation="relu", name="dense_1")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="dense_2")(x)
    return keras.Model(inputs, outputs, name=name)



def repo_root() -> Path | None:
    """The repository (folder with ``data/models``) above the current directory or package."""
    return paths.repo_root()


def models_dir() -> Path:
    """Where trained weights live: ``$CONVLENS_MODELS``, else the repository's ``data/models``."""
    folder = settings.env_path(settings.MODELS_ENV)
    if folder is not None:
        return folder
    root = repo_root()
    return (root / "data" / "models") if root else Path("data") / "models"


def weights_path(variant: str) -> Path:
    """The weights file of a trained variant in :func:`models_dir`."""
    return models_dir() / f"{variant}.weights.h5"




HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first eight bytes of every HDF5 file (Keras' ``.weights.h5``)."""

RECORD_KEYS = ("variant", "epochs_planned", "epochs_completed", "complete", "history", "trained_on")


def training_record(variant: str, folder: str | os.PathLike | None = None) -> dict:
    """The JSON training record committed beside a variant's weights."""
    settings.recipe(variant)
    path = Path(folder or models_dir()) / f"{variant}.json"
    if not path.is_file():
        raise WeightsNotFoundError(f"No training record {path}; make it with: python -m convlens.train {variant}")
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadModelFileError(
            f"The training record {path} is not valid JSON ({exc}); restore it with "
            f"`git checkout -- {path.name}` in data/models, or fetch it again."
        ) from None
    missing = [key for key in RECORD_KEYS if key not in record] if isinstance(record, dict) else list(RECORD_KEYS)
    if missing or not record.get("history"):
        raise BadModelFileError(
            f"The training record {path} lacks {', '.join(missing) or 'history'}; restore it from the "
            "repository or retrain with: python -m convlens.train " + variant
        )
    return record


def record_summary(variant: str) -> str:
    """One line on how far a variant was trained, for the top of each chapter."""
    record = training_record(variant)
    state = "" if record["complete"] else " (training not finished)"
    return (  # at most 72 characters: output boxes do not wrap
        f"model: {variant}, {record['epochs_completed']} of {record['epochs_planned']} epochs{state}, "
        f"validation accuracy {record['history'][-1]['val_accuracy']:.3f}"
    )


def records_table(variants: Sequence[str] | None = None) -> str:
    """A text table of the variants' training records: epochs, last train/val accuracy, best val, test."""
    lines = [f"{'model':<10}{'epochs':>8}{'train acc':>11}{'val acc':>9}{'best val':>10}{'test acc':>10}"]
    states = []
    for variant in settings.VARIANTS if variants is None else variants:
        record = training_record(variant)
        last = record["history"][-1]
        best = max(row["val_accuracy"] for row in record["history"])
        test = record.get("test_accuracy")
        test_text = f"{test:.3f}" if test is not None else "n/a"
        lines.append(
            f"{variant:<10}{record['epochs_completed']:>4} of {record['epochs_planned']:<3}"
            f"{last['accuracy']:>9.3f}{last['val_accuracy']:>9.3f}{best:>10.3f}{test_text:>10}"
        )
        if not record["complete"]:  # the machine it ran on is in the record, for the instructors' page
            states.append(f"{variant}: INCOMPLETE, training was stopped early.")
    return "\n".join(lines + states)


def load_trained(variant: str = "dataaug"):
    """The small convnet with the committed weights of ``variant`` (see :data:`convlens.settings.VARIANTS`)."""
    recipe = settings.recipe(variant)
    path = weights_path(variant)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"No trained weights at {path}; make them with: python -m convlens.train {variant} "
            "(or set CONVLENS_MODELS to the folder that holds them)."
        )
    model = small_convnet(dropout=recipe.dropout, name=variant)
    load_weights_checked(model, path)
    return model


def load_weights_checked(model, path: str | os.PathLike) -> None:
    """``model.load_weights(path)``, with an error that names the file and the fix."""
    import warnings

    path = Path(path)
    fix = (
        "restore it from the repository (data/models), delete it so that it is fetched again, "
        f"or retrain with: python -m convlens.train {model.name}"
    )
    with open(path, "rb") as stream:
        signature = stream.read(len(HDF5_SIGNATURE))
    if signature != HDF5_SIGNATURE:
        raise BadModelFileError(f"{path} is not an HDF5 weights file (empty, truncated or a web page); {fix}.")
    import h5py

    try:
        with h5py.File(path, "r"):
            pass
    except OSError as exc:
        raise BadModelFileError(
            f"{path} is a damaged HDF5 file (truncated by an interrupted copy or save?: {str(exc)[:120]}); {fix}."
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns per layer before raising: one clear error instead
        try:
            model.load_weights(path)
        except Exception as exc:  # noqa: BLE001 - h5py and Keras raise many kinds
            raise BadModelFileError(
                f"{path} does not hold weights of this model ({type(exc).__name__}: {str(exc)[:200]}); {fix}."
            ) from None


VGG16_SIZE = 224
"""The input size (height and width) of VGG16's ImageNet classifier (``include_top=True``)."""

VGG16_MIN_SIZE = 32
"""The smallest input side Keras' VGG16 takes without its top (five 2 x 2 poolings)."""


def _check_vgg16_arguments(include_top: bool, input_shape) -> None:
    """Refuse the argument mistakes that Keras would report as a download-unrelated error."""
    if input_shape is None:
        return
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] != 3:
        raise ArgumentError(f"VGG16 takes RGB images: input_shape must be (height, width, 3); got {shape}.")
    if include_top and shape != (VGG16_SIZE, VGG16_SIZE, 3):
        raise ArgumentError(
            f"VGG16 with include_top=True is ImageNet's classifier, whose dense layers take "
            f"{VGG16_SIZE} x {VGG16_SIZE} images only; got input_shape={shape}. Leave input_shape out "
            "(convlens.adapters.imagenet_cats_vs_dogs resizes the photos), or use include_top=False for another size."
        )
    if any(side is not None and side < VGG16_MIN_SIZE for side in shape[:2]):
        raise ArgumentError(
            f"VGG16 needs images of at least {VGG16_MIN_SIZE} x {VGG16_MIN_SIZE}; got input_shape={shape}."
        )


VGG16_WEIGHTS_FILES = {
    True: "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
    False: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
"""The files Keras keeps VGG16's ImageNet weights in (``KERAS_HOME/models``), with and without the top."""


def vgg16(include_top: bool = False, input_shape: tuple[int, int, int] | None = None):
    """Keras' VGG16 with ImageNet weights, or :class:`VGG16WeightsUnavailable`.

    With its top (``include_top=True``) the last layer gives the 1000 ImageNet **logits**
    (``classifier_activation=None``): :func:`convlens.adapters.imagenet_cats_vs_dogs` takes them.
    Never falls back to random weights: a figure made with them would be a lie. Keras fetches the
    weights itself (``keras.utils.get_file``, hash checked) into :data:`VGG16_WEIGHTS_FILES` of
    ``KERAS_HOME/models``, which is looked at first: with no file there, a failure of the call is
    a failed download (no network); with the file there, a damaged file to delete. A wrong
    argument (for example ``include_top=True`` with ``input_shape=(150, 150, 3)``) is refused
    before, as an :class:`~convlens.errors.ArgumentError`; any other error (a bug) passes through.
    """
    import keras

    _check_vgg16_arguments(include_top, input_shape)
    cached = settings.keras_home() / "models" / VGG16_WEIGHTS_FILES[include_top]
    was_cached = cached.is_file()
    try:
        return keras.applications.VGG16(
            weights="imagenet", include_top=include_top, input_shape=input_shape, classifier_activation=None
        )
    except Exception as exc:
        # keras.utils.get_file raises a bare Exception for HTTP and URL errors, OSError for a cut or a
        # timeout, ValueError for a file whose hash is wrong; h5py raises OSError for a damaged file.
        if not (type(exc) is Exception or isinstance(exc, (OSError, ValueError))):
            raise
        if was_cached:
            raise VGG16WeightsUnavailable(
                f"VGG16's ImageNet weights could not be read ({type(exc).__name__}: {str(exc)[:160]}); "
                f"the file {cached} is probably damaged: delete it and run again."
            ) from None
        # The chapters print this message in their stored outputs: keep it word for word.
        raise VGG16WeightsUnavailable(
            "VGG16's ImageNet weights could not be downloaded (no network here?), so this figure is "
            f"left out; run the notebook in Colab to see it ({type(exc).__name__})."
        ) from None
