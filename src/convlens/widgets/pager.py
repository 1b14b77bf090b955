"""A kernel-free image pager: self-contained HTML and JavaScript, no external script.

Every image is embedded as a data URI (one ``<img>`` per image), a drop-down picks the
group (a layer, say) and a slider the image within it (a channel), so the rendered book
can be explored without a running kernel. Each frame is drawn ``display_px`` wide (300 by
default, never under the 96 px of :data:`convlens.plotting.stamp.MIN_TILE_PX`): the pager
holds the channels and patterns that the grids leave out.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
from collections.abc import Mapping, Sequence

import numpy as np

from ..checks import check_int
from ..errors import ArgumentError, InputImageError
from ..plotting.common import ACTIVATION_CMAP
from ..plotting.stamp import MIN_TILE_PX

__all__ = [
    "encode_image",
    "image_pager",
    "image_pager_html",
]


_counter = itertools.count()

_SCRIPT = """
<script>
(function() {
  var root = document.getElementById("UID");
  var select = root.querySelector("select"), slider = root.querySelector("input[type=range]");
  var label = root.querySelector(".pager-label");
  var jump = true;  // a group opens on its start frame
  function show() {
    var groups = root.querySelectorAll(".pager-group");
    groups.forEach(function(div) { div.style.display = (div.dataset.group === select.value) ? "block" : "none"; });
    var current = groups[Number(select.value)];
    slider.max = Number(current.dataset.count) - 1;
    if (Number(slider.value) > Number(slider.max)) { slider.value = slider.max; }
    if (jump) { slider.value = current.dataset.start; jump = false; }
    current.querySelectorAll("figure").forEach(function(fig) {
      fig.style.display = (fig.dataset.index === slider.value) ? "block" : "none";
    });
    label.textContent = LABEL + " " + slider.value + " of 0.." + slider.max;
  }
  select.addEventListener("change", function() { jump = true; show(); });
  slider.addEventListener("input", show);
  show();
})();
</script>"""


def _to_uint8_rgb(image: np.ndarray, cmap: str | None) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        if cmap is None:
            raise ArgumentError("A 2-D image needs a colormap name (cmap), e.g. cmap='viridis'.")
        import matplotlib

        values = image.astype(np.float32)
        if image.dtype == np.uint8:
            values = values / 255.0
        rgba = matplotlib.colormaps[cmap](np.clip(values, 0.0, 1.0))
        return (rgba[..., :3] * 255).round().astype(np.uint8)
    if image.ndim == 3 and image.shape[-1] == 3:
        if image.dtype != np.uint8:
            image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
        return image
    raise InputImageError(f"Expected an HxW or HxWx3 image, got shape {image.shape}.")


def encode_image(image: np.ndarray, cmap: str | None = None, image_format: str = "png") -> str:
    """A ``data:`` URI of one image (2-D values in [0, 1] coloured by ``cmap``, or RGB)."""
    from PIL import Image

    if image_format not in ("png", "jpeg"):
        raise ArgumentError(f"image_format must be 'png' or 'jpeg'; got {image_format!r}.")
    rgb = _to_uint8_rgb(image, cmap)
    buffer = io.BytesIO()
    if image_format == "jpeg":
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    else:
        Image.fromarray(rgb).save(buffer, format="PNG", optimize=True)
    return f"data:image/{image_format};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _titles(groups: Mapping[str, Sequence[np.ndarray]], item_titles: Mapping[str, Sequence[str]] | None,
            item_label: str) -> dict[str, list[str]]:
    """One title per image of every group (given, or "group, label i"); clear errors for what is missing."""
    if not groups:
        raise ArgumentError("image_pager_html needs at least one group of images.")
    titles = {}
    for name, images in groups.items():
        if len(images) == 0:
            raise ArgumentError(f"Group {name!r} of the pager holds no image; leave it out or give it images.")
        given = (item_titles or {}).get(name)
        if given is not None and len(given) != len(images):
            raise ArgumentError(f"Group {name!r} has {len(images)} images but {len(given)} titles; "
                                "pass one title per image.")
        titles[name] = list(given) if given is not None else [f"{name}, {item_label} {i}" for i in range(len(images))]
    return titles


def _group_html(g: int, images: Sequence[np.ndarray], titles: Sequence[str], cmap: str | None, image_format: str,
                display_px: int, start: int) -> str:
    """One group's frames: a ``<figure>`` (image and caption) per image, frame ``start`` shown."""
    frames = "".join(
        f'<figure data-index="{i}" style="display:{"block" if i == start else "none"};margin:0">'
        f'<img alt="{html.escape(titles[i])}" src="{encode_image(image, cmap, image_format)}" '
        f'style="width:{display_px}px;image-rendering:pixelated;border:1px solid #ccc"/>'
        f'<figcaption style="font-size:0.9em">{html.escape(titles[i])}</figcaption></figure>'
        for i, image in enumerate(images)
    )
    return (f'<div class="pager-group" data-group="{g}" data-count="{len(images)}" data-start="{start}" '
            f'style="display:{"block" if g == 0 else "none"}">{frames}</div>')


def image_pager_html(
    groups: Mapping[str, Sequence[np.ndarray]],
    title: str = "",
    item_label: str = "image",
    item_titles: Mapping[str, Sequence[str]] | None = None,
    cmap: str | None = ACTIVATION_CMAP,
    image_format: str = "png",
    display_px: int = 300,
    start: Mapping[str, int] | None = None,
) -> str:
    """HTML of a pager over ``groups`` (name -> images): a group picker and an index slider.

    ``start`` gives, for a group, the frame it opens on (default 0): a channel or a pattern
    worth seeing rather than, say, a blank first channel.
    2-D images are values in [0, 1] drawn with ``cmap`` (default viridis,
    :data:`convlens.plotting.common.ACTIVATION_CMAP`); RGB images are drawn as they are.
    ``item_titles`` gives, for a group, one title per image. Images are scaled up to
    ``display_px`` wide (at least 96) without smoothing, so pixels stay visible.
    """
    titles = _titles(groups, item_titles, item_label)
    starts = {name: check_int(f"start of {name!r}", (start or {}).get(name, 0), 0, len(groups[name]) - 1)
              for name in groups}
    display_px = check_int("display_px", display_px, minimum=int(MIN_TILE_PX), why=" (a legible frame)")
    uid = f"convlens-pager-{next(_counter)}"
    names = list(groups)
    options = "".join(f'<option value="{i}">{html.escape(name)}</option>' for i, name in enumerate(names))
    panels = "".join(_group_html(g, groups[name], titles[name], cmap, image_format, display_px, starts[name])
                     for g, name in enumerate(names))
    script = _SCRIPT.replace("UID", uid).replace("LABEL", json.dumps(item_label).replace("</", "<\\/"))
    return (
        f'<div id="{uid}" class="convlens-pager" style="font-family:sans-serif">'
        + (f"<strong>{html.escape(title)}</strong><br/>" if title else "")
        + f'<label>group <select aria-label="group">{options}</select></label> '
        + f'<label><input type="range" aria-label="{html.escape(item_label)}" min="0" '
        + f'max="{len(groups[names[0]]) - 1}" value="{starts[names[0]]}" step="1" '
        + f'style="width:{display_px}px"/></label> '
        + '<span class="pager-label"></span>'
        + panels
        + "</div>"
        + script
    )


def image_pager(groups: Mapping[str, Sequence[np.ndarray]], **kwargs):
    """The pager of :func:`image_pager_html` as an ``IPython.display.HTML`` object."""
    from IPython.display import HTML

    return HTML(image_pager_html(groups, **kwargs))
