"""A small Sphinx extension for the book's HTML.

- Serves ``book/_ext/static`` (the book's own JS and CSS) as static files and adds ``rnnbook/book.css`` (the
  column width that code fits in, dark-mode figures and tables) to every page.
- Drops repeated ``<script>`` entries: under Jupyter Book 1.0.4, sphinx-thebe's inline configuration is registered
  twice (once with filename None, once with ''), and the second copy is a JavaScript error (``const`` declared twice) on every page.
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


def setup(app):
    app.connect("builder-inited", lambda app: app.config.html_static_path.append(str(Path(__file__).parent / "static")))
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.add_css_file("rnnbook/book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}

