"""Shared fixtures: a tiny generated dataset folder, the real photos when present."""

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
def real_data_dir() -> Path:
    """The real photos named by $CONVLENS_DATA (set by the Makefile and CI)."""
    value = os.environ.get("CONVLENS_DATA")
    if not value or not (Path(value) / "train").is_dir():
        pytest.skip("CONVLENS_DATA does not point to the cats-vs-dogs photos")
    return Path(value)
