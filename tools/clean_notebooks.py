"""Drop stored stderr outputs that hold only TensorFlow's C++ start-up log.

``jupyter execute`` records the absl lines TensorFlow writes to file descriptor 2 when it is
first imported (timestamps included); nbval's kernel does not see them, so a stored copy
would fail nbval with "Missing output fields: {'stderr'}". Any other stderr is kept.

Usage: python tools/clean_notebooks.py book/*.ipynb
"""

from __future__ import annotations

import re
import sys

import nbformat

TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] .*)?$"
)


def clean(path: str) -> int:
    """Remove TensorFlow-log-only stderr outputs from one notebook; return how many."""
    notebook = nbformat.read(path, as_version=4)
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
    nbformat.write(notebook, path)
    return dropped


if __name__ == "__main__":
    for notebook_path in sys.argv[1:]:
        print(f"{notebook_path}: dropped {clean(notebook_path)} TensorFlow log output(s)")
