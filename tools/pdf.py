"""Print the book to one PDF: the single-page HTML build, printed by headless Chromium once MathJax has typeset.

    python tools/pdf.py [_build/singlehtml] [_build/pdf/rnn-book.pdf]      (what `make pdf` runs)

Why this route: `jupyter-book build --builder singlehtml` re-uses the execution cache (it executes nothing again)
and renders every output as the HTML book does (tables, figures, widgets' static HTML), math through MathJax, and
the bibliography; Chromium is already what the browser check uses. (The LaTeX route would need a TeX installation
of about a gigabyte and renders HTML outputs, the tables among them, poorly.)

Print styles (below) drop the sidebars, the header and the buttons, keep hidden cells (setup, solutions) closed,
keep figures and tables whole on a page, and wrap long output lines instead of cutting them.
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
@media print {
  .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article, .prev-next-area, .bd-footer,
  .bd-footer-article, .header-article-items, .headerlink, .copybtn, .toggle-button, button, .skip-link,
  #pst-back-to-top, .search-button, .theme-switch-button { display: none !important; }
  .bd-container, .bd-page-width, .bd-main, .bd-content, .bd-article-container, .bd-article { display: block !important;
    max-width: none !important; min-width: 0 !important; width: auto !important; padding: 0 !important;
    margin: 0 !important; }
  table { max-width: 100%; }
  .cell_output { overflow: hidden; }
  body { font-size: 10.5pt; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; font-size: 8.5pt !important; }
  img, figure, table, .cell_output .output.text_html { break-inside: avoid; page-break-inside: avoid; }
  /* a code cell moves whole to the next page rather than leaving its empty frame behind (a longer one still breaks) */
  .cell_input, .cell_input div.highlight { break-inside: avoid; page-break-inside: avoid; }
  img { max-width: 100% !important; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  span[id^="document-"] + section { break-before: page; page-break-before: always; }  /* each chapter on a new page */
  a { color: inherit; text-decoration: none; }
}
"""


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve the single-page build. Its page is book/intro.html (the root document), but Sphinx writes the links to
    _static/ and _images/ as if it were at the top: a path that does not exist is looked up one folder higher."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def translate_path(self, path: str) -> str:
            root = directory.resolve()
            local = Path(super().translate_path(path)).resolve()
            parts = local.relative_to(root).parts if local.is_relative_to(root) else ()
            if not local.exists() and len(parts) > 1:
                return str(root.joinpath(*parts[1:]))
            return str(local)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(directory.resolve())))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def page_count(pdf: Path) -> int:
    """The number of pages: Chromium writes one ``/Type /Page`` object per page."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def main(site: Path, out: Path) -> int:
    from playwright.sync_api import sync_playwright

    index = site / "book" / "intro.html"  # the root document (index.html only redirects to it)
    if not index.is_file():
        print(f"pdf: no {index}; build it first: jupyter-book build --builder singlehtml .")
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    server, base = serve(site)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        # offline, like the browser check: any request to another host is refused
        page.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname
                   in ("127.0.0.1", "localhost") else route.abort())
        failed: list[str] = []
        page.on("requestfailed", lambda req: req.url.endswith("searchindex.js") or failed.append(req.url))
        # searchindex.js: the search of the HTML book, which the single page does not have (nor need)
        page.on("response", lambda r: r.status >= 400 and not r.url.endswith("searchindex.js")
                and failed.append(f"{r.status} {r.url}"))
        page.goto(f"{base}/book/intro.html", wait_until="load", timeout=120_000)
        page.wait_for_function("() => !window.MathJax || !window.MathJax.startup || window.MathJax.startup.promise",
                               timeout=60_000)
        page.evaluate("() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null")
        page.evaluate("() => { document.documentElement.dataset.theme = 'light'; }")
        page.wait_for_timeout(2000)  # widgets' static HTML
        # on paper nothing can be clicked open: the answers of the chapters' questions print open
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        math = page.evaluate("() => [document.querySelectorAll('.math').length,"
                             " document.querySelectorAll('mjx-container').length]")
        broken = page.evaluate("() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length")
        page.pdf(path=str(out), format="A4", print_background=True, prefer_css_page_size=True,
                 display_header_footer=True, header_template="<span></span>",
                 footer_template='<div style="font-size:8pt;width:100%;text-align:center">'
                                 '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
        browser.close()
    server.shutdown()
    pages = page_count(out)
    print(f"pdf: {out} ({pages} pages, {out.stat().st_size / 2**20:.1f} MB, {math[1]} typeset math of {math[0]}, "
          f"{time.perf_counter() - start:.0f} s)")
    problems = [f"{len(failed)} failed requests ({failed[:3]})"] if failed else []
    problems += [f"{broken} images did not load"] if broken else []
    problems += [f"only {math[1]} of {math[0]} formulas typeset"] if math[1] < math[0] else []
    if problems:
        print("pdf: " + "; ".join(problems))
        return 1
    return 0 if pages > 1 else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(Path(args[0]) if args else ROOT / "_build" / "singlehtml",
                  Path(args[1]) if len(args) > 1 else ROOT / "_build" / "pdf" / "rnn-book.pdf"))
