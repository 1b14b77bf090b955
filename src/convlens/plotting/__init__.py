"""Drawing: every figure of the book (matplotlib). Techniques compute; this draws.

One module per chapter (``plotting.activations``, ``plotting.filters``,
``plotting.gradcam``) on top of the shared helpers in :mod:`convlens.plotting.common`.
"""

from .common import image_grid, show_photos, training_curves

__all__ = ["image_grid", "show_photos", "training_curves"]
