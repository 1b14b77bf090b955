"""Contact sheets for drawing (and checking) boxes on the validation photos by hand.

Chapter 4 asks where each model looks: on the animal, its head, or the background. That needs
hand-drawn boxes (``data/annotations/validation_boxes.json``), read off by eye from enlarged
photos. This script renders the sheets for that work:

- ``grid`` mode: a few photos per sheet, each enlarged ``--scale`` times, with a coordinate grid
  in the ORIGINAL pixel coordinates (a line every 16 px, labels 0, 16, ..., 128 on the edges)
  and the photo's file name above it, to read boxes off.
- ``check`` mode: the same sheets with the boxes of a JSON file drawn over the photos (animal in
  one colour, head in another), to look at every box once more and correct it.

The sheets are scratch images (default ``/tmp/boxes/``), never kept in the repository. Pillow and
numpy do all the drawing: a plotting library would add nothing but weight for a grid and boxes.

Usage::

    python tools/annotation_sheets.py grid --out /tmp/boxes
    python tools/annotation_sheets.py check data/annotations/validation_boxes.json --out /tmp/boxes
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 128
STEP = 16
MARGIN = 34
TITLE = 20
GRID_COLOUR = (255, 255, 0, 110)
LABEL_COLOUR = (0, 0, 0)
ANIMAL_COLOUR = (0, 230, 255)
HEAD_COLOUR = (255, 40, 200)


def photo_files(data_dir: str | os.PathLike, per_class: int = 100) -> list[Path]:
    """The photos to annotate: ``convlens.data.sample_files("validation", per_class, data_dir)``."""
    from convlens.data import sample_files

    return sample_files("validation", per_class, data_dir)


def relative_name(path: Path) -> str:
    """``cats/cat.1.jpg`` from ``.../validation/cats/cat.1.jpg`` (the key the JSON uses)."""
    return f"{path.parent.name}/{path.name}"


def enlarged(path: Path, scale: int) -> Image.Image:
    """The photo enlarged ``scale`` times with nearest-neighbour pixels (each pixel stays a block)."""
    pixels = np.asarray(Image.open(path).convert("RGB"))
    if pixels.shape[:2] != (SIZE, SIZE):
        raise ValueError(f"{path} is {pixels.shape[1]} x {pixels.shape[0]}, not {SIZE} x {SIZE}; use the 128-px copy.")
    return Image.fromarray(np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1))


def draw_grid(tile: Image.Image, scale: int) -> Image.Image:
    """Overlay thin grid lines every ``STEP`` original pixels (translucent, so the photo shows)."""
    overlay = Image.new("RGBA", tile.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    for value in range(STEP, SIZE, STEP):
        at = value * scale
        width = 2 if value % 64 == 0 else 1
        pen.line([(at, 0), (at, tile.size[1])], fill=GRID_COLOUR, width=width)
        pen.line([(0, at), (tile.size[0], at)], fill=GRID_COLOUR, width=width)
    return Image.alpha_composite(tile.convert("RGBA"), overlay).convert("RGB")


def draw_boxes(tile: Image.Image, scale: int, animal: Sequence[int] | None, head: Sequence[int] | None) -> None:
    """Draw the animal and head boxes ([x0, y0, x1, y1], x1/y1 exclusive) on an enlarged tile."""
    pen = ImageDraw.Draw(tile)
    for box, colour in ((animal, ANIMAL_COLOUR), (head, HEAD_COLOUR)):
        if box is None:
            continue
        x0, y0, x1, y1 = (int(v) * scale for v in box)
        pen.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour, width=2)


def labelled_cell(path: Path, scale: int, boxes: dict | None) -> Image.Image:
    """One photo: title, enlarged photo with grid (and boxes), tick labels on all four edges."""
    side = SIZE * scale
    cell = Image.new("RGB", (side + 2 * MARGIN, side + 2 * MARGIN + TITLE), (255, 255, 255))
    tile = draw_grid(enlarged(path, scale), scale)
    title = relative_name(path)
    if boxes is not None:
        draw_boxes(tile, scale, boxes.get("animal"), boxes.get("head"))
        if boxes.get("note"):
            title += "  *"
    cell.paste(tile, (MARGIN, MARGIN + TITLE))
    pen = ImageDraw.Draw(cell)
    pen.text((MARGIN, 4), title, fill=LABEL_COLOUR)
    top, left = MARGIN + TITLE, MARGIN
    for value in range(0, SIZE + 1, STEP):
        at = value * scale
        label = str(value)
        pen.text((left + at - 3 * len(label), top - 14), label, fill=LABEL_COLOUR)
        pen.text((left + at - 3 * len(label), top + side + 4), label, fill=LABEL_COLOUR)
        pen.text((left - 6 * len(label) - 6, top + at - 5), label, fill=LABEL_COLOUR)
        pen.text((left + side + 5, top + at - 5), label, fill=LABEL_COLOUR)
    return cell


def render_sheets(
    files: Sequence[Path],
    out_dir: Path,
    prefix: str,
    scale: int = 3,
    columns: int = 3,
    rows: int = 3,
    boxes: dict[str, dict] | None = None,
) -> list[Path]:
    """Render ``files`` onto numbered sheets of ``columns`` x ``rows`` photos; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    per_sheet = columns * rows
    written = []
    for number, start in enumerate(range(0, len(files), per_sheet)):
        chunk = files[start : start + per_sheet]
        cells = [labelled_cell(p, scale, None if boxes is None else boxes.get(relative_name(p), {})) for p in chunk]
        width, height = cells[0].size
        sheet = Image.new("RGB", (columns * width, rows * height), (255, 255, 255))
        for i, cell in enumerate(cells):
            sheet.paste(cell, ((i % columns) * width, (i // columns) * height))
        target = out_dir / f"{prefix}_{number:02d}.png"
        sheet.save(target)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``grid`` sheets to annotate, or ``check`` sheets with the boxes of a JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["grid", "check"])
    parser.add_argument("boxes", nargs="?", help="JSON with a 'photos' list (check mode)")
    parser.add_argument("--data", default=os.environ.get("CONVLENS_DATA", "/work/shared/data/cats_vs_dogs"))
    parser.add_argument("--out", default="/tmp/boxes", type=Path)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--columns", type=int, default=3)
    parser.add_argument("--rows", type=int, default=3)
    args = parser.parse_args(argv)
    files = photo_files(args.data, args.per_class)
    boxes = None
    if args.mode == "check":
        if not args.boxes:
            parser.error("check mode needs the JSON file of boxes")
        photos = json.loads(Path(args.boxes).read_text(encoding="utf-8"))["photos"]
        boxes = {p["file"]: p for p in photos}
    written = render_sheets(files, args.out, args.mode, args.scale, args.columns, args.rows, boxes)
    print(f"{len(written)} sheets in {args.out}")


if __name__ == "__main__":
    main()
