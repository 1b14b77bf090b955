"""Drop stored stderr outputs that hold only TensorFlow's C++ start-up log.

``jupyter execute`` records the absl lines TensorFlow writes to file descriptor 2 when it is
first imported (timestamps included); nbval's kernel does not see them, so a stored copy
would fail nbval with "Missing output fields: {'stderr'}". Any other stderr is kept.

By default nothing is written: each notebook's count of such outputs is printed, and the exit
status is 1 when any would be dropped. ``--in-place`` rewrites the notebooks (atomically, through
:func:`convlens.files.atomic_path`), as ``make notebooks`` does after executing them.

Usage: python tools/clean_notebooks.py [--in-place] book/*.ipynb
"""

from __future__ import annotations

import argparse
import re
import sys

import nbformat

from convlens.files import atomic_path

TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] .*"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow with the appropriate"
    r" compiler flags\.)?$"
)


def clean(notebook: nbformat.NotebookNode) -> int:
    """Remove TensorFlow-log-only stderr outputs from ``notebook`` (in memory); return how many."""
    dropped = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            is_log = output.output_type == "stream" and output.name == "stderr"
            if is_log and all(TF_LOG_LINE.match(line) for line in output.text.splitlines()):
                dropped += 1
                continue
            kept.append(output)
        cell.outputs = kept
    return dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--in-place", action="store_true", help="rewrite the notebooks (default: only report)")
    args = parser.parse_args(argv)
    found = 0
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        dropped = clean(notebook)
        found += dropped
        if args.in_place and dropped:
            with atomic_path(path) as temporary:
                nbformat.write(notebook, temporary)
        verb = "dropped" if args.in_place else "would drop"
        print(f"{path}: {verb} {dropped} TensorFlow log output(s)")
    return 1 if found and not args.in_place else 0


if __name__ == "__main__":
    sys.exit(main())
