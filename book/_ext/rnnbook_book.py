"""A small Sphinx extension for the book's HTML.

- Serves ``book/_ext/static`` (the book's own JS and CSS) as static files and adds ``rnnbook/book.css`` (the
  column width that code fits in, dark-mode figures and tables) to every page.
- Drops repeated ``<script>`` entries: under Jupyter Book 1.0.4, sphinx-thebe's inline configuration is registered
  twice (once with filename None, once with ''), and the second copy is a JavaScript error (``const`` declared twice) on every page.
- Lets the single-page build (``--builder singlehtml``, what ``make pdf`` prints) render: some extensions register
  their nodes' HTML visitors for the ``html`` builder only (myst-nb's ``HideCodeCellNode``, sphinx-jupyterbook-latex's
  ``HiddenCellNode``, which Jupyter Book puts in place of hidden cells there); singlehtml gets the same visitors.
  (So the PDF leaves out the hidden setup and solution cells.) And MathJax is loaded there: Sphinx looks for
  equations in the root document only, which in the single page holds none itself.
"""

from __future__ import annotations

from pathlib import Path


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", None) or {}
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))  # None == ""
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _html_visitors_for_singlehtml(app) -> None:
    if app.builder.name != "singlehtml":
        return
    app.set_html_assets_policy("always")  # MathJax on the single page
    handlers = app.registry.translation_handlers
    for node, visitors in handlers.get("html", {}).items():
        handlers.setdefault("singlehtml", {}).setdefault(node, visitors)


def setup(app):
    app.connect("builder-inited", _html_visitors_for_singlehtml)
    app.connect("builder-inited", lambda app: app.config.html_static_path.append(str(Path(__file__).parent / "static")))
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.add_css_file("rnnbook/book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}

