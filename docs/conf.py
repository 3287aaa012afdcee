"""Sphinx configuration for the sknonlin documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root. The examples in ``examples/`` run during the build, so a
broken example fails it. ``-D plot_gallery=0`` skips running them.
"""

import os
import sys
import warnings

# Document the package of this repository, whether installed or not.
sys.path.insert(0, os.path.abspath(".."))

from numpydoc.xref import DEFAULT_LINKS

import sknonlin

# Examples render figures without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sknonlin"
author = "The sknonlin developers"
copyright = "2026, The sknonlin developers"
release = sknonlin.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Ships MathJax with the pages, so that the math renders offline too.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# The build runs offline, so sphinx.ext.intersphinx is deliberately not used.

# -- API reference ----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"

# numpydoc renders the sections; the class template lists the methods once.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Type descriptions go through numpydoc's cross-referencing, which wraps names
# such as ``n_outputs_`` in roles; left as plain text, reST would read their
# trailing underscore as a link. Without intersphinx, names from other
# projects render as literals.
numpydoc_xref_param_type = True
# numpydoc's default aliases point into the Python and NumPy inventories,
# which an offline build does not have: show those types by name instead.
numpydoc_xref_aliases = {
    word: f":obj:`{word}`"
    for word, target in DEFAULT_LINKS.items()
    if "python:" in target or "numpy:" in target
}
numpydoc_xref_ignore = {
    "of",
    "or",
    "and",
    "shape",
    "default",
    "optional",
    "instance",
    "type",
    "length",
    "array-like",
    "matrix",
    "sparse",
    "estimator",
}

# -- Examples gallery -------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py files are gallery pages; the other scripts in examples/,
    # such as the lecture tour, are commands to run from a shell.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"^(?!plot_)",
    # By the example's number: plot_10_* after plot_9_*.
    "within_subsection_order": "docs._gallery_order.ExampleNumberSortKey",
    "doc_module": ("sknonlin",),
    "backreferences_dir": os.path.join("gen_modules", "backreferences"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "min_reported_time": 1,
    "image_scrapers": ("matplotlib",),
}

# Matplotlib may warn that Agg cannot show figures; that is expected here.
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="FigureCanvasAgg is non-interactive, and thus cannot be shown",
)

# -- HTML output ------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknonlin {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# -- Hooks -------------------------------------------------------------------
def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates set_{method}_request for metadata routing; its
    # own documentation covers them, and their docstrings link into it.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
