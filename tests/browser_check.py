"""Browser check of the built book: headless Chromium opens every page of _build/html.

A page fails when it logs a JavaScript error, a resource fails to load, it asks for anything off this machine,
an image does not load, math is left as raw TeX, or a widget it embeds does not render. Chapters must also
carry a Colab link that points at a notebook that exists in the repository. Screenshots go to _build/screenshots/.

    python tests/browser_check.py [_build/html]      (run by .ci/run after the book build)
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

CHECK_PAGE = """() => {
  const images = [...document.images].filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);
  const math = [...document.querySelectorAll('.math')];
  const rawMath = math.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60));
  // TeX left as text in the prose (not in code, outputs or samples, where a LaTeX model's samples belong)
  const root = (document.querySelector('main') || document.body).cloneNode(true);
  root.querySelectorAll('pre, code, script, style, .cell_output, .output, .highlight').forEach(el => el.remove());
  const text = root.textContent;
  const leftovers = (text.match(/\\$\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/g) || []).length;
  const widgetViews = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const widgetsShown = document.querySelectorAll('.jupyter-widgets').length;
  const colab = [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href);
  return {images, nMath: math.length, rawMath, leftovers, widgetViews, widgetsShown, colab,
          typeset: document.querySelectorAll('mjx-container').length};
}"""


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def colab_target(url: str) -> Path:
    """https://colab.research.google.com/github/ORG/REPO/blob/BRANCH/PATH -> ROOT/PATH."""
    match = re.match(r"https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/[^/]+/(.+)$", url)
    if not match:
        raise ValueError(f"not a Colab GitHub link: {url}")
    return ROOT / match.group(1)


def check_page(page, url: str, shot: Path, is_chapter: bool) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda err: problems.append(f"JavaScript error: {err}"))
    page.on("requestfailed", lambda req: problems.append(f"failed to load {req.url}: {req.failure}"))
    page.goto(url, wait_until="load")
    page.wait_for_function("() => !window.MathJax || !window.MathJax.startup || window.MathJax.startup.promise",
                           timeout=30_000)
    page.evaluate("() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null")
    page.wait_for_timeout(1500)  # let the widget manager render the embedded widgets
    info = page.evaluate(CHECK_PAGE)
    page.screenshot(path=str(shot), full_page=True)
    problems += [f"image did not load: {src}" for src in info["images"]]
    problems += [f"math left as raw TeX: {text!r}" for text in info["rawMath"]]
    if info["leftovers"]:
        problems.append(f"{info['leftovers']} TeX delimiters left in the page text")
    if info["widgetViews"] and not info["widgetsShown"]:
        problems.append(f"{info['widgetViews']} embedded widgets, none rendered")
    if is_chapter:
        if not info["colab"]:
            problems.append("no Colab launch link")
        for link in info["colab"]:
            if not colab_target(link).is_file():
                problems.append(f"Colab link points at a notebook that does not exist: {link}")
    print(f"  {url.split('/', 3)[-1]}: {info['nMath']} math ({info['typeset']} typeset), "
          f"{info['widgetViews']} widget views ({info['widgetsShown']} shown), {len(info['colab'])} Colab link(s)")
    return problems


def main(html: Path) -> int:
    pages = sorted(p for p in html.rglob("*.html") if not {"_static", "_sources", "_images"} & set(p.parts)
                   and p.name not in {"search.html", "genindex.html"})
    chapters = {p for p in pages if p.parent.name == "book" and re.match(r"\d\d[a-z]?_", p.name)}
    if not chapters:
        print(f"browser check: no chapter pages under {html}; build the book first")
        return 1
    shots = html.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    server, base = serve(html)
    failures: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # Nothing may leave this machine: any request to another host is refused and reported.
        outside: list[str] = []

        def only_local(route):
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost"):
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        context.route("**/*", only_local)
        for path in pages:
            rel = path.relative_to(html).as_posix()
            page = context.new_page()
            outside.clear()
            problems = check_page(page, f"{base}/{rel}", shots / (rel.replace("/", "__") + ".png"), path in chapters)
            problems += [f"requested a resource off this machine: {u}" for u in outside]
            # aborted off-machine requests also show as failed loads; report them once
            problems = [p for p in problems if not any(u in p and p.startswith("failed") for u in outside)]
            if problems:
                failures[rel] = problems
            page.close()
        browser.close()
    server.shutdown()
    for rel, problems in failures.items():
        print(f"FAIL {rel}")
        for problem in problems:
            print(f"    {problem}")
    n_fail = len(failures)
    print(f"browser check: {len(pages) - n_fail} passed, {n_fail} failed ({len(chapters)} chapters, screenshots in {shots})")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"))
