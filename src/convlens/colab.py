"""Making a notebook run in Colab (stub: the full version installs the trained weights)."""

from __future__ import annotations

import sys


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def setup_colab() -> None:
    """Prepare a Colab runtime for the book; does nothing anywhere else."""
    if not in_colab():
        return None
    return None
