"""Build the public site (``make site``): one folder to publish, with nothing an instructor keeps private.

The site holds:

- the book, in the students' edition (solutions folded) or, with ``--edition handout``, in the
  handout edition (no solution anywhere, no page source to download), and in either without the
  rubrics (``CONVLENS_SITE=1``, see ``book/_ext/convlens_site.py``): built here by Jupyter Book
  from scratch into ``--work`` (``CONVLENS_BOOK`` picks the edition; the live lab's files, weights
  and TensorFlow.js included, come from ``make lab``'s ``_build/lab``);
- ``print/``: the printable handout, as the book's build writes it (``book/_ext/convlens_assignments.py``),
  else from ``_build/print`` when ``make`` has built one there;
- ``assignments/``: the student notebooks (and their public checks) of ``make assignments``, from
  the committed ``assignments/`` folder or ``_build/assignments/CHAPTER/student``; never an
  ``instructor`` folder or an autograder.

Every notebook copied into the site has the repository address rewritten as the book's pages
have (``book/_ext/convlens_site.py``). The folder is assembled under a temporary name, checked by
``tools/check_site.py`` (no instructors' page, rubric, hidden test, or, in the handout site,
solution; every repository link on :data:`convlens.colab.REPOSITORY_URL`), and only then renamed
to ``--out``: a site that fails the check is never left in place. Last, the size of each part.

Usage: python tools/build_site.py [--edition students|handout] [--out _build/site] [--work DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_site  # noqa: E402  (a sibling script, not a package)

PRINT_DIR = ROOT / "_build" / "print"
ASSIGNMENT_DIRS = (ROOT / "assignments", ROOT / "_build" / "assignments")
PRIVATE_PARTS = {"instructor", "instructors", "autograder", "solutions", "hidden", "hidden_tests", "source"}


def _site_extension():
    spec = importlib.util.spec_from_file_location("convlens_site", ROOT / "book" / "_ext" / "convlens_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_book(edition: str, work: Path) -> Path:
    """The book in ``edition``, built from scratch under ``work`` (a cached build could keep another
    address in its pages); returns its HTML folder. Warnings fail the build, as in ``make book``."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "-W", "--keep-going",
               "--path-output", str(work)]
    env = {**os.environ, "CONVLENS_BOOK": edition, "CONVLENS_SITE": "1"}  # CONVLENS_SITE: no rubric
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        problems = [line for line in result.stdout.splitlines() if "WARNING" in line or "ERROR" in line]
        sys.stdout.write("\n".join(problems[:40] or result.stdout.splitlines()[-40:]) + "\n")
        raise SystemExit(f"build_site: the {edition} edition did not build (jupyter-book exit {result.returncode}).")
    return work / "_build" / "html"


def assignment_files() -> list[tuple[Path, str]]:
    """(file, path in the site) of every student assignment file: ``assignments/CHAPTER/...``."""
    for base in ASSIGNMENT_DIRS:
        if not base.is_dir():
            continue
        found = []
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            parts = path.relative_to(base).parts
            if any(part.startswith(".") or part.lower() in PRIVATE_PARTS for part in parts) or path.suffix == ".zip":
                continue
            if base.name == "assignments" and base.parent.name == "_build":
                if len(parts) < 3 or parts[1] != "student":
                    continue
                parts = (parts[0], *parts[2:])
            found.append((path, "/".join(("assignments", *parts))))
        if found:
            return found
    return []


def assemble(book_html: Path, folder: Path, repository: str) -> list[str]:
    """Copy the parts into ``folder``; returns the names of the parts that were there to copy."""
    rewrite = _site_extension().rewrite
    shutil.copytree(book_html, folder)
    parts = ["book"]
    if not (folder / "print").exists() and PRINT_DIR.is_dir() and any(PRINT_DIR.iterdir()):
        shutil.copytree(PRINT_DIR, folder / "print")  # unless the book wrote its own (convlens_assignments)
    if (folder / "print").is_dir():
        parts.append("print")
    files = assignment_files()
    for source, relative in files:
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix in (".ipynb", ".md", ".txt", ".py"):
            target.write_text(rewrite(source.read_text(encoding="utf-8"), repository), encoding="utf-8")
        else:
            shutil.copy2(source, target)
    if files:
        parts.append("assignments")
    (folder / ".nojekyll").write_text("")  # served as is: no Jekyll pass over _static/ and _images/
    return parts


def sizes(site: Path) -> dict[str, int]:
    """Bytes of each part of the site: pages, weights, TensorFlow.js, photos, notebooks, handout."""
    totals = dict.fromkeys(("pages", "weights", "TensorFlow.js", "photos", "notebooks", "handout"), 0)
    for path in (p for p in site.rglob("*") if p.is_file()):
        relative = path.relative_to(site).as_posix()
        if relative.startswith("_static/lab/models/"):
            part = "weights"
        elif relative.startswith("_static/lab/vendor/"):
            part = "TensorFlow.js"
        elif relative.startswith("_static/lab/samples/"):
            part = "photos"
        elif path.suffix == ".ipynb" or relative.startswith("assignments/"):
            part = "notebooks"
        elif relative.startswith("print/"):
            part = "handout"
        else:
            part = "pages"
        totals[part] += path.stat().st_size
    return totals


def main(argv: list[str] | None = None) -> int:
    """``python tools/build_site.py [--edition E] [--out DIR] [--work DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", choices=("students", "handout"), default="students")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "site")
    parser.add_argument("--work", type=Path, default=None, help="where the book is built (default: next to --out)")
    args = parser.parse_args(argv)
    from convlens.colab import REPOSITORY_URL

    out = args.out.resolve()
    work = (args.work or out.parent / f".{out.name}-book").resolve()
    started = time.perf_counter()
    book_html = build_book(args.edition, work / args.edition)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        folder = staging / "site"
        parts = assemble(book_html, folder, REPOSITORY_URL)
        report = check_site.check_site(folder, args.edition, REPOSITORY_URL)
        for problem in report.problems:
            print(f"build_site: {problem}", file=sys.stderr)
        if report.problems:
            print(f"build_site: {len(report.problems)} problems: no site written to {out}.", file=sys.stderr)
            return 1
        old = staging / "old"
        if out.exists():
            out.rename(old)
        folder.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    missing = [name for name in ("print", "assignments") if name not in parts]
    total = sizes(out)
    print(f"Site ({args.edition} edition, links to {REPOSITORY_URL}): {out}/index.html, "
          f"built in {time.perf_counter() - started:.0f} s")
    print("  " + ", ".join(f"{name} {value / 2**20:.2f} MiB" for name, value in total.items())
          + f"; total {sum(total.values()) / 2**20:.1f} MiB")
    searched = ", ".join(f"{value} {name}" for name, value in report.counts.items())
    print(f"  checked: {searched}; no private file or text")
    if missing:
        print(f"  not built, so not in the site: {', '.join(missing)} (make assignments builds them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
