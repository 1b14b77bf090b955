"""Shared fixtures: tiny generated dataset folders (for parity tests too), and the real photos."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from testkit import write_photo

# Unit tests draw off-screen; nbval kernels (other processes) keep the inline backend that
# the stored notebooks were executed with, so no MPLBACKEND variable is set here.
matplotlib.use("Agg")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "absent(reason): a case whose input (a built page) is missing: it fails, "
                                       "with the reason and the fix")


@pytest.fixture(autouse=True)
def _fail_when_absent(request) -> None:
    """A case marked ``absent(reason)`` (a test parametrized over built pages, when none is found) fails with
    its reason: a missing build is a failure to fix, not a skip."""
    marker = request.node.get_closest_marker("absent")
    if marker is not None:
        pytest.fail(marker.args[0], pytrace=False)


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """train/validation/test folders with 3 cats and 3 dogs each (random-pixel JPEGs)."""
    root = tmp_path / "cats_vs_dogs"
    for split in ("train", "validation", "test"):
        for label, name in enumerate(("cats", "dogs")):
            for i in range(3):
                write_photo(root / split / name / f"{name[:-1]}.{i}.jpg", seed=100 * label + i)
    return root


@pytest.fixture(scope="session")
def synthetic_photos(tmp_path_factory) -> Path:
    """A folder laid out as the real photos (train/validation/test, cats/dogs), 60 random-pixel JPEGs
    per class and split, in several sizes: the inputs of a parity test (the lab or a decoder against
    Keras or PIL), which compares two computations on the same images and needs no real photo."""
    root = tmp_path_factory.mktemp("synthetic_photos")
    sizes = [(150, 150), (200, 133), (97, 180), (500, 375)]
    for split in ("train", "validation", "test"):
        for label, name in enumerate(("cats", "dogs")):
            for i in range(60):
                write_photo(root / split / name / f"{name[:-1]}.{i}.jpg", seed=1000 * label + i, size=sizes[i % 4])
    return root


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real photos named by $CONVLENS_DATA (the Makefile sets it to the shared photos).

    For the tests that are about the real photos themselves (their counts, their decoding); a
    missing folder fails with the fix, since the Makefile always provides it.
    """
    value = os.environ.get("CONVLENS_DATA")
    if not value or not (Path(value) / "train").is_dir():
        pytest.fail(f"CONVLENS_DATA={value!r} does not point to the cats-vs-dogs photos (a folder with train/ and "
                    "validation/): run the tests through make (it sets CONVLENS_DATA to the shared photos), or set it "
                    "yourself (convlens.data.find_data_dir() downloads the public photos and gives their folder).",
                    pytrace=False)
    return Path(value)
