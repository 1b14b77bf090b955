"""The live lab's Sphinx extension: the ``convlens-lab`` directive and the lab's static files.

A panel is placed in any page (MyST markdown or a notebook's markdown cell) with::

    ```{convlens-lab} activations
    ```

The argument is the panel: ``photo`` (a photo chooser with the three models' P(dog)),
``activations``, ``filters`` or ``gradcam``. Options: ``:variant:`` (``baseline``, ``dataaug``
or ``full``; the model shown first), ``:layer:`` (a layer name) and ``:index:`` (the channel or
filter shown first). On a page with a ``photo`` panel, the other panels follow its photo; on a
page without one, each ``activations`` or ``gradcam`` panel has a chooser of its own.

The directive writes a ``<div class="convlens-lab">`` with the settings as ``data-`` attributes;
the page gets the lab's entry module (``_static/lab/convlens-lab.js``, a native ES module that
imports the others and starts the lab's Web Worker), which builds the panel in the reader's
browser. The lab's files (the modules, TensorFlow.js, the converted models, the sample photos)
are built by ``make lab`` into ``_build/lab`` (``$CONVLENS_LAB_DIR``, or
``convlens_lab_dir`` in ``_config.yml``) and copied into the book's ``_static/lab``; a page with
a panel and no such files is a build warning (an error under ``-W``).
"""

from __future__ import annotations

import html
import os
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

PANELS = ("photo", "activations", "filters", "gradcam")
VARIANTS = ("baseline", "dataaug", "full")
MARKER = 'class="convlens-lab"'
SCRIPT = "lab/convlens-lab.js"
ENV_VAR = "CONVLENS_LAB_DIR"
FALLBACK = (
    "This live panel runs the book's trained models in your browser: it needs JavaScript and "
    "WebAssembly."
)

logger = logging.getLogger(__name__)


def panel_html(kind: str, variant: str | None = None, layer: str | None = None, index: int | None = None) -> str:
    """The placeholder ``<div>`` of one panel, which the lab's module replaces in the browser."""
    attributes = {"data-panel": kind, "data-variant": variant, "data-layer": layer,
                  "data-index": None if index is None else str(index)}
    shown = "".join(f' {name}="{html.escape(value)}"' for name, value in attributes.items() if value is not None)
    return f'<div {MARKER}{shown}><p class="convlens-lab-fallback">{FALLBACK}</p></div>\n'


def _variant(argument: str | None) -> str:
    return directives.choice(argument, VARIANTS)


class LabPanelDirective(SphinxDirective):
    """``{convlens-lab} KIND``: one live panel of the lab (see the module docstring)."""

    required_arguments = 1
    has_content = False
    option_spec = {"variant": _variant, "layer": directives.unchanged_required,
                   "index": directives.nonnegative_int}

    def run(self) -> list[nodes.Node]:
        kind = self.arguments[0].strip()
        if kind not in PANELS:
            raise self.error(f"Unknown lab panel {kind!r}; choose one of {', '.join(PANELS)}.")
        markup = panel_html(kind, self.options.get("variant"), self.options.get("layer"), self.options.get("index"))
        return [nodes.raw("", markup, format="html")]


def lab_dir(app: Sphinx) -> Path:
    """Where ``make lab`` put the lab's files."""
    configured = app.config.convlens_lab_dir or os.environ.get(ENV_VAR) or "_build/lab"
    return (Path(app.srcdir) / configured).resolve()


def has_panel(doctree: nodes.Node | None) -> bool:
    """Whether a page holds a lab panel."""
    if doctree is None:
        return False
    return any(MARKER in node.astext() for node in doctree.findall(nodes.raw))


def _copy_files(app: Sphinx) -> None:
    """Copy the lab's files into the book's ``_static/lab`` before the pages are written."""
    if app.builder.format != "html":
        return
    source = lab_dir(app)
    app.builder.convlens_lab_ready = (source / "lab.json").is_file() and (source / "convlens-lab.js").is_file()
    if app.builder.convlens_lab_ready:
        shutil.copytree(source, Path(app.outdir) / "_static" / "lab", dirs_exist_ok=True)


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Give a page with a panel the lab's module (and say so when the lab's files are missing)."""
    if not has_panel(doctree):
        return
    if not getattr(app.builder, "convlens_lab_ready", False):
        logger.warning(
            "%s has a live lab panel but the lab's files are missing in %s: build them with `make lab` "
            "(make book does).", pagename, lab_dir(app), type="convlens", subtype="lab",
        )
    app.add_js_file(SCRIPT, type="module")


def setup(app: Sphinx) -> dict:
    app.add_config_value("convlens_lab_dir", "", "env", [str])
    app.add_directive("convlens-lab", LabPanelDirective)
    app.connect("builder-inited", _copy_files)
    app.connect("html-page-context", _page_context)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
