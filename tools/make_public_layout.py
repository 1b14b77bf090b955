"""Build a folder in the layout of the public ``cats_and_dogs_filtered.zip`` from the shared photos.

The public archive (what Colab readers download) has::

    train/cats       cat.0.jpg ... cat.999.jpg        train/dogs       dog.0.jpg ... dog.999.jpg
    validation/cats  cat.2000.jpg ... cat.2499.jpg    validation/dogs  dog.2000.jpg ... dog.2499.jpg

and no ``test/`` split. This script takes the shared photos (``$CONVLENS_DATA`` or the first
argument), keeps all 1000 + 1000 training photos and the first 500 + 500 validation photos (in
file-name order), renames them in that numbering, and writes them (hard links where the file
system allows, else copies) to ``_build/public_layout`` (or ``--out``). ``MANIFEST.tsv`` in the
folder maps each new name to its source file.

The folder is built next to its destination under a temporary name, then renamed into place, so a
reader never sees a half-built folder. A folder already built from the same sources is kept as it
is (the manifest is compared), so running the script twice is cheap.

Usage: python tools/make_public_layout.py [SOURCE] [--out FOLDER]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

LAYOUT = {
    # split: (first number, photos per class)
    "train": (0, 1000),
    "validation": (2000, 500),
}
CLASSES = ("cats", "dogs")
SUFFIXES = (".jpg", ".jpeg", ".png")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "_build" / "public_layout"


class LayoutError(RuntimeError):
    """The source folder cannot give the public layout."""


def plan(source: Path) -> list[tuple[str, Path]]:
    """(relative new name, source file) for every photo of the public layout, in order."""
    entries = []
    for split, (first, count) in LAYOUT.items():
        for name in CLASSES:
            folder = source / split / name
            if not folder.is_dir():
                raise LayoutError(
                    f"{folder} does not exist: point CONVLENS_DATA (or the first argument) at a folder "
                    "with train/{cats,dogs} and validation/{cats,dogs}"
                )
            photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
            if len(photos) < count:
                raise LayoutError(
                    f"{folder} holds {len(photos)} photos, the public layout needs {count}: "
                    "use the full shared copy (/work/shared/data/cats_vs_dogs or $CONVLENS_DATA)"
                )
            for offset, photo in enumerate(photos[:count]):
                entries.append((f"{split}/{name}/{name[:-1]}.{first + offset}.jpg", photo.resolve()))
    return entries


def manifest_text(entries: list[tuple[str, Path]]) -> str:
    return "".join(f"{new}\t{old}\n" for new, old in entries)


def _place(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def build(source: Path, out: Path = DEFAULT_OUT) -> bool:
    """Make ``out`` hold the public layout of ``source``; return False when it already did."""
    entries = plan(source)
    manifest = manifest_text(entries)
    if (out / "MANIFEST.tsv").is_file() and (out / "MANIFEST.tsv").read_text() == manifest:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for new, old in entries:
            target = staging / new
            target.parent.mkdir(parents=True, exist_ok=True)
            _place(old, target)
        (staging / "MANIFEST.tsv").write_text(manifest)
        staging.chmod(0o755)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.rename(out, retired / out.name)
            os.rename(staging, out)
            shutil.rmtree(retired)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", default=os.environ.get("CONVLENS_DATA"), help="the shared photos")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    if not args.source:
        parser.error("name the shared photos: an argument or $CONVLENS_DATA")
    try:
        built = build(Path(args.source), args.out)
    except LayoutError as exc:
        print(f"make_public_layout: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {'built' if built else 'already up to date'} (public cats_and_dogs_filtered layout)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
