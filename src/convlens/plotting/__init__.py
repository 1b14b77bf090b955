"""Drawing: every figure of the book (matplotlib). Techniques compute; this draws.

One module per chapter (``plotting.activations``, ``plotting.filters``,
``plotting.gradcam``) on top of the shared helpers in :mod:`convlens.plotting.common`.
Every figure is sized for the book's column (text >= 9 px, tiles >= 96 px at a 1280 px
window) and carries a stamp of those sizes in its image file, which the browser test reads
(:mod:`convlens.plotting.stamp`).
"""

from .common import image_grid, show_photos, training_curves

__all__ = ["image_grid", "show_photos", "training_curves"]
