"""The package's conventions, checked over every module so that a new one cannot forget them.

- every exception class convlens defines derives from :class:`convlens.errors.ConvlensError`
  (and still from the built-in one callers caught before, e.g. ``ValueError``);
- every module declares ``__all__``, and each name in it exists.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import convlens
from convlens import errors

ALL_MODULES = ["convlens"] + sorted(info.name for info in pkgutil.walk_packages(convlens.__path__, prefix="convlens."))


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # an optional drawing dependency (ipywidgets ...) not installed
        pytest.skip(f"{name} cannot be imported here: {exc}")


def _own_exceptions(module) -> list[type[BaseException]]:
    """Exception classes defined in ``module`` itself (not imported into it)."""
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__
    ]


def test_the_walk_finds_the_modules():
    for name in ("convlens.data", "convlens.images", "convlens.archive", "convlens.models", "convlens.train"):
        assert name in ALL_MODULES
    assert any(name.startswith("convlens.plotting.") for name in ALL_MODULES)


@pytest.mark.parametrize("name", ALL_MODULES)
def test_every_exception_derives_from_convlens_error(name):
    module = _module(name)
    for exception in _own_exceptions(module):
        assert issubclass(exception, errors.ConvlensError), (
            f"{name}.{exception.__name__} does not derive from convlens.errors.ConvlensError: add it to "
            "the bases (keeping the built-in base, e.g. class X(ConvlensError, ValueError))."
        )


def test_the_exception_check_can_fail():
    """A module with an exception outside the hierarchy is caught by :func:`_own_exceptions`."""
    import types

    fake = types.ModuleType("convlens.fake")
    exec("class LooseError(ValueError):\n    pass\n", vars(fake))
    assert [e.__name__ for e in _own_exceptions(fake)] == ["LooseError"]
    assert not issubclass(fake.LooseError, errors.ConvlensError)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        ("data.DataNotFoundError", RuntimeError),
        ("images.ImageLoadError", ValueError),
        ("models.WeightsNotFoundError", FileNotFoundError),
        ("models.VGG16WeightsUnavailable", RuntimeError),
        ("models.BadModelFileError", ValueError),
        ("train.CheckpointError", RuntimeError),
    ],
)
def test_errors_keep_their_builtin_base(error, builtin):
    module_name, class_name = error.split(".")
    exception = getattr(importlib.import_module(f"convlens.{module_name}"), class_name)
    assert issubclass(exception, errors.ConvlensError) and issubclass(exception, builtin)


def test_image_load_error_is_an_input_image_error():
    from convlens import images

    assert issubclass(images.ImageLoadError, errors.InputImageError)
    with pytest.raises(errors.InputImageError):
        images.load_image(b"not an image at all")


@pytest.mark.parametrize("name", ALL_MODULES)
def test_every_module_declares_all(name):
    module = _module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__ list"
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what {name} does not define: {missing}"
    assert len(set(module.__all__)) == len(module.__all__), f"{name}.__all__ names something twice"


@pytest.mark.parametrize("name", ALL_MODULES)
def test_all_lists_every_public_function_and_class(name):
    """What a module defines under a public name is in its ``__all__`` (nothing public is forgotten)."""
    module = _module(name)
    defined_here = [
        key
        for key, value in vars(module).items()
        if not key.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == name
    ]
    forgotten = sorted(set(defined_here) - set(getattr(module, "__all__", [])))
    assert not forgotten, f"{name} defines public {forgotten} but leaves them out of __all__"
