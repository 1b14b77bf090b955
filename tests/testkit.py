"""Helpers shared by the tests: generated photos, a tiny random convnet, and ``tools/`` on the path.

A module of its own, not conftest.py: ``pytest tests book`` loads book/conftest.py too, and
``from conftest import ...`` would then find that one.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parents[1] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))  # tools/readable_cells.py: the chapters' readable cells as functions


def write_photo(path: Path, seed: int, size=(40, 50), mode="RGB", fmt="JPEG") -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode=mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


def centred_tiny_convnet(size: int, seed: int):
    """Centre the pixels (like VGG16's preprocessing), conv (6) -> pool -> conv (8) -> pool -> dense.

    Small, fast and random. Centred inputs make the gray start a near-zero input, as in the
    lecture's VGG16, so most random filters fire a little on it and gradient ascent has a
    gradient to follow. Shared by the filter tests and the readable-cell tests.
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(size, size, 3), name="image")
    x = layers.Rescaling(255.0, offset=-128.0, name="centre")(inputs)
    x = layers.Conv2D(6, 3, activation="relu", name="c1", bias_initializer=keras.initializers.Constant(0.01))(x)
    x = layers.MaxPooling2D(2, name="p1")(x)
    x = layers.Conv2D(8, 3, activation="relu", name="c2", bias_initializer=keras.initializers.Constant(0.01))(x)
    x = layers.MaxPooling2D(2, name="p2")(x)
    x = layers.Flatten(name="flat")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="out")(x)
    return keras.Model(inputs, outputs, name="tiny")


CHROMIUM = os.environ.get("CONVLENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
"""Debian's Chromium, headless, with no background connections (this machine's network is closed)."""


def chromium():
    """One headless Chromium driven by Playwright, for a module-scoped fixture (skips without one)."""
    import pytest

    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
    if not Path(CHROMIUM).is_file() and not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found: install Debian's Chromium with `make browser-deps`")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class LocalOnly:
    """A Playwright route handler: requests to ``base`` (and data:/blob:) go through, others are refused.

    Every refused URL is kept in ``blocked``, so a test can fail a page that asks for the network.
    """

    def __init__(self, base: str):
        self.base = base
        self.blocked: list[str] = []

    def __call__(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


def book_extension(name: str):
    """The book's local Sphinx extension ``book/_ext/NAME.py``, imported as a module for its tests."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
