"""conf.py: Sphinx settings of pergil's documentation: the user guide and the API reference,
which autodoc builds from the docstrings of the installed package (napoleon reads their
Google-style Args/Returns/Raises sections). Build: sphinx-build -W --keep-going docs OUT."""

import pergil

project = "pergil"
author = "the pergil developers"
copyright = "2026, the pergil developers"
release = version = pergil.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.intersphinx"]
# No network at build time: intersphinx only resolves targets from an inventory given here,
# and none is, so references to the standard library stay plain text instead of failing.
intersphinx_mapping = {}
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"  # types in the signature; the docstring's Args say the rest
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "alabaster"
html_title = f"pergil {release}"
exclude_patterns = ["_build"]
