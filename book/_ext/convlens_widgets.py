"""The widgets' JavaScript served by the book itself, not by a CDN, so that the chapters work offline.

A page whose notebook stores ipywidgets state (chapters 2-4) gets scripts from myst-nb:
RequireJS and ``@jupyter-widgets/html-manager``'s ``embed-amd.js``, which draw the stored widgets
with no kernel. myst-nb's default loads both from CDNs; ``_config.yml``'s ``nb_ipywidgets_js``
names ``_static/widgets/`` instead, and this extension copies them there from the npm packages
pinned in ``package-lock.json`` (``npm ci``, which ``make lab``, and so ``make book``, runs), with
the manager's icon fonts. Before them comes ``book/_static/widgets/setup.js`` (a static file of the
book): RequireJS's base folder, so that the fonts load from there too, and MathJax 3 for the
manager's MathJax 2 call. A missing package is a build warning (an error under ``-W``), never a
silent CDN fallback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

FOLDER = "widgets"
"""The folder under ``_static`` that ``nb_ipywidgets_js`` in ``_config.yml`` names."""
SETUP = "setup.js"
"""The book's own script that comes first (``book/_static/widgets/setup.js``)."""
MANAGER = "node_modules/@jupyter-widgets/html-manager/dist"
FILES = {
    "require.js": "node_modules/requirejs/require.js",
    "embed-amd.js": f"{MANAGER}/embed-amd.js",
}
"""Each served script and its source in the repository's ``node_modules`` (npm ci)."""
FONTS = ("*.woff2", "*.woff", "*.ttf", "*.eot", "*.svg")
"""The manager's icon fonts: under ``@jupyter-widgets/html-manager/dist/`` of RequireJS's base folder,
where the manager asks for them."""

logger = logging.getLogger(__name__)


def _copy_files(app: Sphinx) -> None:
    """Copy the widgets' scripts into ``_static/widgets`` of an HTML build."""
    if app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / FOLDER
    missing = [source for source in FILES.values() if not (Path(app.srcdir) / source).is_file()]
    if missing:
        logger.warning(
            "the widgets' scripts are missing (%s): install the book's npm packages with `npm ci` "
            "(make lab does); without them the chapters' widgets do not render.", ", ".join(missing),
            type="convlens", subtype="widgets",
        )
        return
    fonts = target / MANAGER.removeprefix("node_modules/")
    fonts.mkdir(parents=True, exist_ok=True)
    for name, source in FILES.items():
        shutil.copyfile(Path(app.srcdir) / source, target / name)
    for pattern in FONTS:
        for font in (Path(app.srcdir) / MANAGER).glob(pattern):
            shutil.copyfile(font, fonts / font.name)


def _check_config(app: Sphinx, config) -> None:
    """Every ipywidgets script the pages ask for is one this extension serves (no CDN left in the config)."""
    wanted = [f"{FOLDER}/{name}" for name in (SETUP, *FILES)]
    asked = list(getattr(config, "nb_ipywidgets_js", {}) or {})
    if asked != wanted:
        logger.warning(
            "nb_ipywidgets_js in _config.yml names %s; it must name %s, in this order (no CDN).",
            asked, wanted, type="convlens", subtype="widgets",
        )


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_config)
    app.connect("builder-inited", _copy_files)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
