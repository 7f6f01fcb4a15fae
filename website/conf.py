"""Sphinx configuration of the course website (`make site`; see website/README.md).

The pages are staged by website/build.py, which runs Sphinx with ``-c website``: this file is the whole
configuration. Notebooks are never executed here: the build hands Sphinx executed copies (or the learner's edition
of an exercise), so ``nb_execution_mode`` is off.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mathjax  # the django-static-mathjax package: MathJax 3's built files on PyPI (no Django needed)

from website.build import repository

# MathJax is served with the site, never from a CDN: formulas render offline and from a local copy of _site/.
# Sphinx's mathjax extension loads _static/<mathjax_path>; build-finished copies MathJax's es5 tree there.
MATHJAX_ES5 = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
mathjax_path = "mathjax/tex-mml-chtml.js"

project = "Loss Lab"
author = "the Loss Lab authors"
copyright = "the Loss Lab authors; code: MIT License, content: CC BY 4.0"  # Sphinx's name for it
extensions = ["myst_nb"]
exclude_patterns = ["**.ipynb_checkpoints"]

# MyST-NB: show the outputs the notebook carries, never run it; $...$ is math, as in Jupyter.
nb_execution_mode = "off"
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # notebooks start at '#' and may skip a level, as Jupyter allows

html_theme = "sphinx_book_theme"
html_title = "Loss Lab"
html_static_path = ["_static"]
html_css_files = ["losslab-site.css"]
html_copy_source = False
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # white, as the figures are; an empty mode logs a console error
html_theme_options = {
    "repository_url": f"https://github.com/{repository()}",
    "repository_branch": "HEAD",
    "path_to_docs": "course",
    "use_repository_button": True,
    "use_download_button": False,  # each page links to its notebook's source instead
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
}


def _copy_mathjax(app, exception) -> None:  # Sphinx's event signature
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX_ES5, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app) -> None:
    if not (MATHJAX_ES5 / "tex-mml-chtml.js").exists():
        raise RuntimeError(f"MathJax is missing from {MATHJAX_ES5}: run `make setup` (django-static-mathjax)")
    app.connect("build-finished", _copy_mathjax)
