"""Interaction: ipywidgets controls (need a kernel) and kernel-free HTML viewers.

Widget state is lost whenever a notebook is re-executed and the rendered book has no
kernel, so every chapter also shows a static figure and, where a reader should be able
to page through many images, a self-contained viewer from :func:`image_pager`.
"""

from .pager import image_pager, image_pager_html

__all__ = ["image_pager", "image_pager_html"]
