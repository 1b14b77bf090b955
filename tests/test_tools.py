"""tools/: notebooks are cleaned only when asked, and every file is written through convlens.files.atomic_path."""

from __future__ import annotations

import ast
from pathlib import Path

import clean_notebooks  # tools/clean_notebooks.py (conftest imports testkit, which puts tools/ on the path)
import nbformat
from testkit import TOOLS

TF_LOG = "W0000 00:00:1700000000.000000    1234 cuda_platform.cc:52] failed call to cuInit\n"


def _notebook_with_a_log(path: Path) -> bytes:
    cell = nbformat.v4.new_code_cell("import tensorflow")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=TF_LOG),
                    nbformat.v4.new_output("stream", name="stdout", text="kept\n")]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path.read_bytes()


def test_clean_notebooks_only_reports_unless_asked(tmp_path, capsys):
    path = tmp_path / "chapter.ipynb"
    before = _notebook_with_a_log(path)
    assert clean_notebooks.main([str(path)]) == 1
    assert path.read_bytes() == before, "a committed notebook is not rewritten without --in-place"
    assert "would drop 1" in capsys.readouterr().out
    assert clean_notebooks.main([str(path), "--in-place"]) == 0
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [output.name for output in outputs] == ["stdout"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapter.ipynb"], "no temporary file left"
    assert clean_notebooks.main([str(path)]) == 0


def test_tools_write_files_through_atomic_path():
    """No tool writes a file its own way (tempfile + os.replace); make_public_layout moves whole folders."""
    own_ways = {}
    for path in sorted(TOOLS.glob("*.py")):
        calls = {ast.unparse(node.func) for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)}
        found = calls & {"tempfile.mkstemp", "os.fdopen"}
        if found:
            own_ways[path.name] = sorted(found)
    assert not own_ways, f"tools writing files their own way (use convlens.files.atomic_path): {own_ways}"
