"""Sphinx configuration of the course's book; ``python -m mlcourse.book`` stages the pages beside it.

Nothing here reaches the network: notebooks are rendered from their stored outputs, and Mermaid and
MathJax are served from ``_static/`` (copied there from their npm packages by the builder).
"""

from sphinx.application import Sphinx
from sphinxcontrib import mermaid

project = "ML models in real applications, in Python"
html_title = project
extensions = ["myst_nb", "sphinxcontrib.mermaid"]
exclude_patterns = ["conf.py"]
nitpicky = True

nb_execution_mode = "off"  # the outputs are those nbval checks: rendered, never recomputed
nb_output_stderr = "show"
# A stored widget (a tqdm bar) shows as its text: the widget JavaScript would load require.js from a CDN, and the
# book makes no request off the machine.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_fence_as_directive = ["mermaid"]  # a ```mermaid fence, as GitHub and JupyterLab draw it
myst_heading_anchors = 3  # links to a section (the glossary's, the README's) are checked like pages

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
}
html_show_sourcelink = False
html_copy_source = False
mathjax_path = "mathjax/tex-mml-chtml.js"


def _mermaid_from_static(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Mermaid as a classic script from _static: an ES module import would be refused on file://."""
    if doctree is not None and doctree.next_node(mermaid.mermaid) is not None:
        app.add_js_file("mermaid/mermaid.min.js")
        app.add_js_file("mermaid-init.js")


def setup(app: Sphinx) -> None:
    for listener in list(app.events.listeners.get("html-page-context", [])):
        if listener.handler is mermaid.install_js:  # it imports mermaid as an ES module from a CDN
            app.disconnect(listener.id)
    app.connect("html-page-context", _mermaid_from_static)
