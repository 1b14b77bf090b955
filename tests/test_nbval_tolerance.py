"""The numeric-tolerant nbval comparison (book/nbval_tolerance.py) accepts rounding, not changes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
_spec = importlib.util.spec_from_file_location("nbval_tolerance", BOOK / "nbval_tolerance.py")
tolerance = importlib.util.module_from_spec(_spec)
sys.modules["nbval_tolerance"] = tolerance
_spec.loader.exec_module(tolerance)
agree = tolerance.texts_agree

STORED = "own filter 0.252, others 0.169 (mean 0.234)\nfilter 7 fires on 14 of 32 photos\n"


def test_accepts_the_last_digits_of_another_back_end():
    # issue 10: 03_filters cell 15 on an AVX-512 machine
    assert agree(STORED, "own filter 0.248, others 0.163 (mean 0.228)\nfilter 7 fires on 14 of 32 photos\n")
    assert agree("score 1.382", "score 1.383")
    assert agree("p = 0.513", "p = 0.514")


def test_accepts_the_same_value_written_differently():
    assert agree("-0.000", "0.000")
    assert agree("0.25", "0.250")
    assert agree("value 1.5e-03", "value 0.0015")


@pytest.mark.parametrize(
    "changed",
    [
        STORED.replace("0.252", "0.277"),  # a 10% change
        STORED.replace("0.234", "0.2106"),  # a 10% change down
        STORED.replace("0.252", "-0.252"),  # a sign
        STORED.replace("own filter", "own filters"),  # a changed word
        STORED.replace("fires", "fired"),
        STORED.split("\n", 1)[1],  # a missing line
        STORED + "extra line\n",  # an extra line
        STORED.replace("14 of 32", "15 of 32"),  # a count
        STORED.replace(" (mean 0.234)", ""),  # a missing number
        STORED.replace("(mean 0.234)", "(mean 0.234, max 0.3)"),  # an extra number
        STORED.replace("0.169", "0.169 0.169"),
        STORED.replace("0.252", "0.252.1"),
    ],
)
def test_rejects_a_real_change(changed):
    assert not agree(STORED, changed)


def test_rejects_ten_percent_at_every_scale():
    for value in (0.05, 0.5, 5.0, 500.0):
        assert not agree(f"{value:.4f}", f"{value * 1.10:.4f}"), value
        assert not agree(f"{value:.4f}", f"{value * 0.90:.4f}"), value


def test_one_unit_in_the_last_printed_place_is_rounding():
    assert agree("act 0.05", "act 0.06")
    assert not agree("act 0.05", "act 0.07")
    assert tolerance.last_place("0.252") == pytest.approx(0.001)
    assert tolerance.last_place("1.5e-03") == pytest.approx(0.0001)


def test_a_cell_tag_loosens_one_cell_only():
    assert tolerance.cell_rtol({}) == tolerance.RTOL
    assert tolerance.cell_rtol({"tags": ["hide-input", "nbval-rtol=0.3"]}) == 0.3
    with pytest.raises(ValueError, match="nbval-rtol=0.3"):
        tolerance.cell_rtol({"tags": ["nbval-rtol=loose"]})
    assert agree("roughness 0.149", "roughness 0.172", rtol=0.3)
    assert not agree("roughness 0.149", "roughness 0.172")


def test_integers_are_compared_exactly():
    assert not agree("epoch 1000", "epoch 1001")
    assert not agree("conv2d_4", "conv2d_5")
    assert agree("conv2d_4: 0.1000", "conv2d_4: 0.1010")


def test_differences_name_what_changed():
    kinds = {d.kind for d in tolerance.compare_text("a 0.5 b 3", "a 0.9 c 3")}
    assert kinds == {"text", "decimal"}
    assert tolerance.compare_text("a 1 2", "a 1")[0].kind == "count"


def _notebook(path: Path, printed: str, stored: str, tags: list[str]) -> Path:
    """A one-cell notebook that prints ``printed`` and stores ``stored`` as its output."""
    import nbformat

    cell = nbformat.v4.new_code_cell(f"print({printed!r})", execution_count=1, metadata={"tags": tags})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow  # pytest in a subprocess, with a notebook kernel
@pytest.mark.parametrize(
    ("printed", "tags", "passes"),
    [
        ("score 0.248 of 32", [], True),
        ("score 0.277 of 32", [], False),
        ("score 0.252 of 31", [], False),
        ("score 0.277 of 32", ["nbval-rtol=0.3"], True),
        ("score 0.252 of 31", ["nbval-rtol=0.3"], False),
    ],
)
def test_active_in_pytest_nbval(tmp_path, printed, tags, passes):
    """The plugin is what `pytest book --nbval` uses: a notebook next to book/conftest.py."""
    folder = tmp_path / "book"
    folder.mkdir()
    for name in ("conftest.py", "nbval_tolerance.py"):
        (folder / name).write_text((BOOK / name).read_text())
    _notebook(folder / "n.ipynb", printed, "score 0.252 of 32\n", tags)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env", str(folder)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode == 0) == passes, result.stdout + result.stderr
