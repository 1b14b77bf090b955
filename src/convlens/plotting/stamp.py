"""The figure stamp: each figure writes its tile and text sizes into its own image file.

A grid of tiles (channels, filter patterns, photos) is legible when each tile is at least
:data:`MIN_TILE_PX` (96) CSS pixels on screen, and its text when it is at least
:data:`MIN_TEXT_PX` (9) pixels. How large they end up depends on the page, which shrinks a
figure wider than its column; where the tiles are, only the figure knows. So the two halves
meet in the image file:

1. Each function of :mod:`convlens.plotting` marks the images that hold tiles
   (:func:`mark_tiles`: one ``imshow`` per tile, or a mosaic of ``across`` x ``down`` tiles)
   and calls :func:`stamp` on its figure.
2. When matplotlib then writes the figure as PNG or JPEG (``savefig``, or the inline backend
   storing it in the notebook), the figure is measured as drawn for that very file (its dpi,
   its layout, after ``bbox_inches="tight"``) and the measure is written into the file: a PNG
   ``tEXt`` chunk, or the JPEG comment, named :data:`STAMP_KEY` and holding JSON such as
   ``{"version": 1, "tile_px": 118.3, "tiles": 16, "text_px": 12.5}``:

   - ``tile_px``: the shorter side of the smallest tile, in pixels of the image file
     (``null`` for a figure without tiles: curves, bar charts);
   - ``text_px``: the smallest visible text, in pixels of the image file (points x dpi / 72).

3. The image bytes reach the built book unchanged (the notebook stores them in base64, the
   book copies them to ``_images/``). The browser test (``tests/test_browser.py``) reads the
   stamp behind each ``<img>`` with :func:`read_stamp` and scales it by how much the page
   shrank the image, rendered width / natural width (:func:`judge`):
   ``tile_px x rendered / natural >= 96`` and ``text_px x rendered / natural >= 9``.

Only figures drawn through pyplot on an Agg canvas (the inline backend, ``Agg``) are stamped;
a chapter's own figure is stamped with ``stamp(fig)`` (and :func:`mark_tiles` for its images).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

from ..errors import ArgumentError

__all__ = [
    "MIN_TEXT_PX",
    "MIN_TILE_PX",
    "STAMP_KEY",
    "judge",
    "mark_tiles",
    "measure",
    "read_stamp",
    "stamp",
]

STAMP_KEY = "convlens-figure"
"""Name of the PNG text chunk (and prefix of the JPEG comment) that holds a figure's stamp."""

MIN_TILE_PX = 96.0
"""The smallest tile a reader can read, in CSS pixels at a 1280 px browser window."""

MIN_TEXT_PX = 9.0
"""The smallest text a reader can read in a figure, in CSS pixels."""

_TILES = "_convlens_tiles"
_HOOKED = "_convlens_stamped"


def mark_tiles(image, across: float = 1, down: float = 1):
    """Record that ``image`` (an ``AxesImage``) shows ``across`` x ``down`` tiles; stamps its figure.

    One tile per ``imshow``: the defaults. A mosaic of maps drawn as one image: ``across`` =
    mosaic width / one map's width (gaps included), ``down`` likewise. Returns ``image``.
    """
    if not across > 0 or not down > 0:
        raise ArgumentError(f"mark_tiles needs across > 0 and down > 0; got {across!r} and {down!r}.")
    fig = image.get_figure(root=True)
    fig.__dict__.setdefault(_TILES, []).append((image, float(across), float(down)))
    stamp(fig)
    return image


def _drawn_texts(artist) -> Iterator:
    """The visible, non-empty texts under ``artist``, leaving out the axes drawn with their axis off."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    for child in artist.get_children():
        if not child.get_visible():
            continue
        if isinstance(child, Axis) and not child.axes.axison:
            continue
        if isinstance(child, Text) and child.get_text().strip():
            yield child
        yield from _drawn_texts(child)


def measure(fig, renderer=None) -> dict:
    """The stamp of ``fig`` as drawn now: smallest tile and smallest text, in pixels at ``fig.dpi``."""
    from matplotlib.transforms import Bbox

    sides = []
    for image, across, down in getattr(fig, _TILES, []):
        if not image.get_visible() or image.axes is None:
            continue
        box = image.get_window_extent(renderer)
        shown = Bbox.intersection(box, image.axes.bbox) if image.get_clip_on() else box
        if shown is not None:
            sides.append(min(shown.width / across, shown.height / down))
    fonts = [text.get_fontsize() for text in _drawn_texts(fig)]
    return {
        "version": 1,
        "tile_px": round(min(sides), 1) if sides else None,
        "tiles": len(sides),
        "text_px": round(min(fonts) * fig.dpi / 72, 1) if fonts else None,
    }


def _stamping(canvas, original, fmt: str):
    """``canvas.print_<fmt>`` that first draws, measures, and adds the stamp to the file it writes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def print_image(filename_or_obj, *, metadata=None, pil_kwargs=None, **_figure_options):
        FigureCanvasAgg.draw(canvas)  # the dpi and layout of this very file
        text = json.dumps(measure(canvas.figure, canvas.get_renderer()))
        if fmt == "png":
            metadata = {**(metadata or {}), STAMP_KEY: text}
        else:
            pil_kwargs = {**(pil_kwargs or {}), "comment": f"{STAMP_KEY} {text}"}
        return original(filename_or_obj, metadata=metadata, pil_kwargs=pil_kwargs)

    return print_image


def stamp(fig):
    """Make ``fig`` write its stamp into every PNG or JPEG file saved from it; returns ``fig``.

    Idempotent. A figure whose canvas is not an Agg canvas (no pyplot, or a vector backend)
    is returned unchanged.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas
    if isinstance(canvas, FigureCanvasAgg) and not getattr(canvas, _HOOKED, False):
        for fmt in ("png", "jpg", "jpeg"):
            setattr(canvas, f"print_{fmt}", _stamping(canvas, getattr(canvas, f"print_{fmt}"), fmt))
        setattr(canvas, _HOOKED, True)
    return fig


def read_stamp(data: bytes) -> dict | None:
    """The stamp of a PNG or JPEG file's bytes, or None when it has none (or is not an image)."""
    from PIL import Image, UnidentifiedImageError

    try:
        info = Image.open(io.BytesIO(data)).info
    except (UnidentifiedImageError, OSError):
        return None
    text = info.get(STAMP_KEY)
    comment = info.get("comment", b"")
    comment = comment.decode("latin-1") if isinstance(comment, bytes) else str(comment)
    if text is None and comment.startswith(STAMP_KEY + " "):
        text = comment[len(STAMP_KEY) + 1 :]
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def judge(stamp_: dict | None, natural_width: float, rendered_width: float, min_tile: float = MIN_TILE_PX,
          min_text: float = MIN_TEXT_PX) -> list[str]:
    """What is too small in a stamped image shown ``rendered_width`` wide (CSS px); [] when all is legible.

    The image's ``natural_width`` pixels are drawn on ``rendered_width`` CSS pixels, so every
    size of the stamp is multiplied by rendered / natural. No stamp: one problem saying so.
    """
    if not stamp_:
        return ["no convlens stamp: draw it with convlens.plotting (or call convlens.plotting.stamp.stamp(fig))"]
    if natural_width <= 0:
        return [f"natural width {natural_width}: the image did not load"]
    scale = rendered_width / natural_width
    problems = []
    if stamp_.get("tile_px") is not None and stamp_["tile_px"] * scale < min_tile:
        problems.append(f"tiles {stamp_['tile_px'] * scale:.0f} px on screen (under {min_tile:.0f})")
    if stamp_.get("text_px") is not None and stamp_["text_px"] * scale < min_text:
        problems.append(f"text {stamp_['text_px'] * scale:.1f} px on screen (under {min_text:.0f})")
    return problems
