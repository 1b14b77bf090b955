"""Every ``convlens`` name a chapter's code uses exists, so that a moved name cannot break a chapter silently.

The chapters are re-executed only by ``make notebooks`` and nbval (minutes each); this test reads
their code cells instead (milliseconds): each ``import convlens...`` / ``from convlens... import``
must import, and each attribute the code takes from an imported convlens module
(``models.load_trained``, ``plot_act.plot_sparsity`` ...) must exist there.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def blank_magics(source: str) -> str:
    """``source`` with its IPython magics and shell lines (``%pip``, ``!ls``) replaced by ``pass``."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def code_of(notebook: Path) -> str:
    """The chapter's code cells as one Python source, magics blanked."""
    cells = [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
    return blank_magics("\n".join(cells))


def convlens_names(source: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(dotted names imported, (owner, attribute) pairs used) of the convlens names in ``source``."""
    tree = ast.parse(source)
    modules: set[str] = set()
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for item in node.names:
                if item.name.split(".")[0] == "convlens":
                    modules.add(item.name)
                    aliases[item.asname or item.name] = item.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "convlens":
            for item in node.names:
                modules.add(f"{node.module}.{item.name}")
                aliases[item.asname or item.name] = f"{node.module}.{item.name}"
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = ast.unparse(node.value)
            if base in aliases:
                used.add((aliases[base], node.attr))
    return modules, used


def _resolve(dotted: str):
    """A module, or an attribute of a module, named by a dotted path."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError:
        parent, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(parent), name)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda path: path.name)
def test_every_convlens_name_a_chapter_uses_exists(notebook):
    modules, used = convlens_names(code_of(notebook))
    assert modules, f"{notebook.name} imports nothing from convlens"
    missing = []
    for dotted in sorted(modules):
        try:
            _resolve(dotted)
        except (ImportError, AttributeError):
            missing.append(dotted)
    for owner, attribute in sorted(used):
        try:
            value = _resolve(owner)
        except (ImportError, AttributeError):
            continue  # named above
        if not hasattr(value, attribute):
            missing.append(f"{owner}.{attribute}")
    assert not missing, f"{notebook.name} uses convlens names that do not exist: {missing}"


def test_the_name_check_can_fail():
    modules, used = convlens_names(
        "from convlens import models\nfrom convlens.plotting import gradcam as g\nfrom convlens.train import gone\n"
        "models.nope()\ng.overlay\n"
    )
    assert modules == {"convlens.models", "convlens.plotting.gradcam", "convlens.train.gone"}
    assert used == {("convlens.models", "nope"), ("convlens.plotting.gradcam", "overlay")}
    assert not hasattr(_resolve("convlens.models"), "nope")
    with pytest.raises(AttributeError):
        _resolve("convlens.train.gone")


def test_magics_are_blanked():
    ast.parse(blank_magics("try:\n    import convlens\nexcept ImportError:\n    %pip install convlens\n!ls\n"))
