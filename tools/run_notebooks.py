"""Execute chapters top to bottom into copies, checking for errors only (no output comparison).

Each notebook runs in a fresh kernel with its own folder as the working directory (as in
Jupyter and nbval), and the executed copy is written to ``--out`` (default ``_build/executed``),
never over the chapter. Every chapter is run even when an earlier one fails; the summary names
each failure with its cell and first error line, and the exit status is 1 when any failed.

Usage: python tools/run_notebooks.py [--out FOLDER] [--timeout SECONDS] NOTEBOOK ...
(``make public-run`` runs every chapter this way against ``_build/public_layout``.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from convlens.files import atomic_path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "_build" / "executed"


def first_error(notebook: nbformat.NotebookNode) -> tuple[int | None, str]:
    """(cell index, "Name: message") of the first error output in an executed notebook."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = str(output.get("evalue", "")).strip().splitlines()
                return index, f"{output.get('ename')}: {message[0] if message else ''}"
    return None, ""


def run(path: Path, out: Path, timeout: int) -> tuple[bool, str, float]:
    """Execute one notebook into ``out``; return (passed, what went wrong, seconds)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.monotonic()
    problem = ""
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        index, line = first_error(notebook)
        if index is not None:
            problem = f"cell {index}: {line}"
        else:
            problem = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    seconds = time.monotonic() - start
    with atomic_path(out / path.name) as temporary:
        nbformat.write(notebook, temporary)
    return not problem, problem, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell (default 1200)")
    args = parser.parse_args(argv)
    print(f"CONVLENS_DATA={os.environ.get('CONVLENS_DATA', '(unset)')}; executed copies in {args.out}")
    results = []
    for path in args.notebooks:
        passed, problem, seconds = run(path, args.out, args.timeout)
        results.append((path, passed, problem))
        print(f"{path.name}: {'ran without error' if passed else 'FAILED at ' + problem} ({seconds:.0f} s)", flush=True)
    failed = [(path, problem) for path, passed, problem in results if not passed]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks ran without error")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
