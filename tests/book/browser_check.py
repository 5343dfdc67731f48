"""Browser check of the built book: headless Chromium opens every page of _build/html at 1280 x 900.

A page fails when
- it logs a JavaScript error, a resource fails to load, it asks for anything off this machine, or an image does not
  load;
- math is left as raw TeX, or a widget it embeds does not render;
- an output shows raw Markdown (a pipe table, **bold**, $math$) instead of what it means, or the prose does;
- a code block (input or output) scrolls sideways, or a table is wider than the column;
- an output holds a warning, a traceback, an object repr such as np.float64(...), or a progress bar;
- an image has no alt text;
- text in an output is hard to read in the dark theme (contrast under 3:1 against what is behind it);
- a chapter has no Colab link, or its link points at a notebook that does not exist.

It prints, per check, how many defects it found on how many pages, and saves a screenshot of the viewport at every
section of every page, in the light and the dark theme, to _build/screenshots/<page>/ (look at them).

    python tests/book/browser_check.py [_build/html]      (run by .ci/run after the book build)
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}

# Every check, in the order the summary prints them.
CHECKS = ["page errors", "images not loaded", "raw TeX", "widgets not rendered", "raw Markdown", "scrolling code",
          "warnings and tracebacks", "object reprs", "progress bars", "images without alt text",
          "dark-mode contrast", "Colab link"]

CHECK_PAGE = r"""() => {
  const main = document.querySelector('main') || document.body;
  const images = [...document.images].filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);
  const math = [...document.querySelectorAll('.math')];
  const rawMath = math.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60));
  // TeX left as text in the prose (not in code, outputs or samples, where a LaTeX model's samples belong)
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, .cell_output, .output, .highlight, mjx-container')
       .forEach(el => el.remove());
  const proseText = prose.textContent;
  const leftovers = (proseText.match(/\$\$|\\\(|\\\[|\\begin\{/g) || []).length;
  const widgetViews = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const widgetsShown = document.querySelectorAll('.jupyter-widgets').length;
  const colab = [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href);

  // Raw Markdown: in the prose, and in outputs outside their code/text blocks (a Markdown output shown as text).
  const pipeTable = /\|\s*:?-{3,}:?\s*\|/;
  const bold = /\*\*[^*\s][^*\n]*\*\*/;
  const dollars = /(^|[^\\$])\$[^$\s][^$\n]{0,80}\$(?!\d)/;
  const rawMarkdown = [];
  if (pipeTable.test(proseText) || bold.test(proseText)) rawMarkdown.push('prose: ' +
      (proseText.match(pipeTable) || proseText.match(bold))[0].slice(0, 60));
  for (const out of main.querySelectorAll('.cell_output')) {
    const copy = out.cloneNode(true);
    // pre, code and model samples (.rnnbook-sample: a LaTeX model's text holds '$') are shown as they are
    copy.querySelectorAll('pre, code, script, style, mjx-container, .jupyter-widgets, .rnnbook-sample')
        .forEach(el => el.remove());
    const text = copy.textContent;
    for (const re of [pipeTable, bold, dollars]) {
      const m = text.match(re);
      if (m) rawMarkdown.push('output: ' + m[0].trim().slice(0, 60));
    }
  }

  // Outputs: warnings, tracebacks, object reprs, progress bars.
  const outputs = [...main.querySelectorAll('.cell_output .output')];
  const outText = outputs.map(el => el.textContent).join('\n');
  const warnings = outputs.filter(el => el.classList.contains('stderr') || el.classList.contains('traceback')
      || /Traceback \(most recent call last\)|\b\w*Warning: /.test(el.textContent))
      .map(el => el.textContent.trim().slice(0, 100));
  const reprs = (outText.match(/\bnp\.(float|int|bool)\w*\(|<[\w.]+ object at 0x[0-9a-f]+>|\btensor\(\d/g) || []);
  const bars = (outText.match(/\d+%\|[^|\n]*\|\s*[\d.]+[kMG]?\/[\d.]+/g) || []);

  // Images with no alt text (decorative images would say alt=""; the book has none).
  const noAlt = [...main.querySelectorAll('img')].filter(img => !(img.getAttribute('alt') || '').trim())
      .map(img => img.src.split('/').pop().slice(0, 40));
  return {images, nMath: math.length, rawMath, leftovers, widgetViews, widgetsShown, colab,
          typeset: document.querySelectorAll('mjx-container').length, rawMarkdown, warnings, reprs, bars, noAlt,
          nImages: main.querySelectorAll('img').length, nOutputs: outputs.length};
}"""

# Code blocks that scroll sideways, as the page opens. Hidden cells (setup, solutions) are counted apart, as a note:
# the solutions' line length is held by tests/book/test_notebooks.py, and a reader sees them only after opening them.
SCROLLING = r"""() => {
  const all = [...(document.querySelector('main') || document.body).querySelectorAll('pre')];
  const wide = all.filter(pre => pre.scrollWidth > pre.clientWidth + 1);
  const blocks = all.filter(pre => pre.checkVisibility());
  const hidden = wide.filter(pre => !pre.checkVisibility()).length;
  const scrolling = wide.filter(pre => pre.checkVisibility())
      .map(pre => (pre.closest('.cell_output') ? 'output' : 'code') + ' ' + (pre.scrollWidth - pre.clientWidth)
           + ' px too wide: ' + (pre.textContent.split('\n').sort((a, b) => b.length - a.length)[0] || '').trim()
           .slice(0, 60));
  // Tables wider than the column: cut off at the right, or scrolling in their wrapper.
  const column = main => main.getBoundingClientRect().right;
  const right = column(document.querySelector('main') || document.body);
  const tables = [...(document.querySelector('main') || document.body).querySelectorAll('table')]
      .filter(t => t.checkVisibility())
      .map(t => [t, Math.max(t.getBoundingClientRect().right - right, t.scrollWidth - t.parentElement.clientWidth)])
      .filter(([t, over]) => over > 1)
      .map(([t, over]) => 'table ' + Math.round(over) + ' px too wide: '
           + (t.querySelector('tr') || t).textContent.replace(/\s+/g, ' ').trim().slice(0, 60));
  // Display math wider than the column: MathJax's block is cut off at the right (or scrolls).
  const maths = [...(document.querySelector('main') || document.body).querySelectorAll('mjx-container[display="true"]')]
      .filter(m => m.checkVisibility())
      .map(m => [m, Math.max(m.getBoundingClientRect().right - right, m.scrollWidth - m.clientWidth,
                             (m.firstElementChild || m).getBoundingClientRect().right - right)])
      .filter(([m, over]) => over > 1)
      .map(([m, over]) => 'display math ' + Math.round(over) + ' px too wide: '
           + ((m.parentElement && m.parentElement.textContent) || '').replace(/\s+/g, ' ').trim().slice(0, 60));
  return {n: blocks.length, scrolling: scrolling.concat(tables, maths), hidden};
}"""

# Text in outputs against its background in the dark theme: WCAG contrast ratio, at least 3:1.
CONTRAST = r"""() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const v = m[1].split(',').map(Number); return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1}; };
  const lum = c => { const f = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => { for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; }
    return parse(getComputedStyle(document.body).backgroundColor); };
  const low = [];
  let n = 0;
  for (const el of document.querySelectorAll('main .cell_output *, main .cell_output')) {
    if (n > 6000) break;
    if (![...el.childNodes].some(t => t.nodeType === 3 && t.textContent.trim())) continue;
    if (el.closest('svg, mjx-container')) continue;
    n++;
    const fg = parse(getComputedStyle(el).color), bg = background(el);
    if (!fg || !bg) continue;
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 3) low.push(`${ratio.toFixed(1)}:1 "${el.textContent.trim().slice(0, 30)}"`);
  }
  return {n, low};
}"""

SECTIONS = r"""() => [...document.querySelectorAll('main h1, main section > h2')].map(h => {
  const r = h.getBoundingClientRect(); return {y: r.top + window.scrollY, name: (h.parentElement.id || h.textContent)
    .replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40)}; })"""


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


def set_theme(page, theme: str) -> None:
    """The pydata theme's light/dark switch: the data-theme attribute on <html> (what its toggle button sets)."""
    page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{theme}'; "
                  f"document.documentElement.dataset.mode = '{theme}'; }}")
    page.wait_for_timeout(150)


def section_screenshots(page, folder: Path) -> int:
    """A viewport screenshot at every section (h1 and h2), light and dark."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = page.evaluate(SECTIONS)
    for theme in ("light", "dark"):
        set_theme(page, theme)
        for k, section in enumerate(sections):
            page.evaluate(f"() => window.scrollTo(0, {max(0, section['y'] - 70)})")
            page.wait_for_timeout(60)
            page.screenshot(path=str(folder / f"{k:02d}-{section['name'] or 'top'}-{theme}.png"))
    set_theme(page, "light")
    page.evaluate("() => window.scrollTo(0, 0)")
    return 2 * len(sections)


def check_page(page, url: str, shots: Path, is_chapter: bool) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {check: [] for check in CHECKS}
    page.on("console", lambda msg: msg.type == "error" and found["page errors"].append(f"console error: {msg.text}"))
    page.on("pageerror", lambda err: found["page errors"].append(f"JavaScript error: {err}"))
    page.on("requestfailed", lambda req: found["page errors"].append(f"failed to load {req.url}: {req.failure}"))
    page.goto(url, wait_until="load")
    page.wait_for_function("() => !window.MathJax || !window.MathJax.startup || window.MathJax.startup.promise",
                           timeout=30_000)
    page.evaluate("() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null")
    page.wait_for_timeout(1500)  # let the widget manager render the embedded widgets
    info = page.evaluate(CHECK_PAGE)
    n_shots = section_screenshots(page, shots)
    set_theme(page, "dark")
    contrast = page.evaluate(CONTRAST)
    set_theme(page, "light")
    scroll = page.evaluate(SCROLLING)
    found["images not loaded"] += [f"image did not load: {src}" for src in info["images"]]
    found["raw TeX"] += [f"math left as raw TeX: {text!r}" for text in info["rawMath"]]
    if info["leftovers"]:
        found["raw TeX"].append(f"{info['leftovers']} TeX delimiters left in the page text")
    if info["widgetViews"] and not info["widgetsShown"]:
        found["widgets not rendered"].append(f"{info['widgetViews']} embedded widgets, none rendered")
    found["raw Markdown"] += [f"raw Markdown in the {text}" for text in info["rawMarkdown"]]
    found["scrolling code"] += [f"scrolls sideways at {VIEWPORT['width']} px: {text}" for text in scroll["scrolling"]]
    found["warnings and tracebacks"] += [f"warning or traceback in an output: {text!r}" for text in info["warnings"]]
    found["object reprs"] += [f"object repr in an output: {text!r}" for text in info["reprs"]]
    found["progress bars"] += [f"progress bar in an output: {text!r}" for text in info["bars"]]
    found["images without alt text"] += [f"image without alt text: {src}" for src in info["noAlt"]]
    found["dark-mode contrast"] += [f"low contrast in the dark theme: {text}" for text in contrast["low"]]
    if is_chapter:
        if not info["colab"]:
            found["Colab link"].append("no Colab launch link")
        for link in info["colab"]:
            if not colab_target(link).is_file():
                found["Colab link"].append(f"Colab link points at a notebook that does not exist: {link}")
    print(f"  {url.split('/', 3)[-1]}: {info['nMath']} math ({info['typeset']} typeset), {info['widgetViews']} widget "
          f"views ({info['widgetsShown']} shown), {info['nImages']} images, {info['nOutputs']} outputs, "
          f"{scroll['n']} code blocks ({scroll['hidden']} hidden ones scroll when opened), {contrast['n']} output "
          f"texts in dark mode, {n_shots} screenshots")
    return found




def run(html: Path) -> tuple[list[Path], set[Path], dict[str, dict[str, list[str]]], Counter, Counter]:
    """Open every page; returns (pages, chapters, failures by page, defects per check, pages failing per check)."""
    pages = sorted(p for p in html.rglob("*.html") if not {"_static", "_sources", "_images"} & set(p.parts)
                   and p.name not in {"search.html", "genindex.html"})
    chapters = {p for p in pages if p.parent.name == "book" and re.match(r"\d\d[a-z]?_", p.name)}
    shots = html.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    server, base = serve(html)
    failures: dict[str, dict[str, list[str]]] = {}
    totals, pages_failing = Counter(), Counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
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
            found = check_page(page, f"{base}/{rel}", shots / rel.removesuffix(".html").replace("/", "__"),
                               path in chapters)
            # aborted off-machine requests also show as failed loads; report them once
            found["page errors"] = [p for p in found["page errors"]
                                    if not any(u in p and p.startswith("failed") for u in outside)]
            found["page errors"] += [f"requested a resource off this machine: {u}" for u in outside]
            for check, problems in found.items():
                totals[check] += len(problems)
                pages_failing[check] += bool(problems)
            if any(found.values()):
                failures[rel] = found
            page.close()
        browser.close()
    server.shutdown()
    return pages, chapters, failures, totals, pages_failing


def main(html: Path) -> int:
    if not any(p.parent.name == "book" and re.match(r"\d\d[a-z]?_", p.name) for p in html.rglob("*.html")):
        print(f"browser check: no chapter pages under {html}; build the book first")
        return 1
    pages, chapters, failures, totals, pages_failing = run(html)
    shots = html.parent / "screenshots"
    for rel, found in failures.items():
        print(f"FAIL {rel}")
        for problems in found.values():
            for problem in problems:
                print(f"    {problem}")
    print(f"\n{'check':<26} {'defects':>8} {'pages':>6}")
    for check in CHECKS:
        print(f"{check:<26} {totals[check]:>8} {pages_failing[check]:>6}")
    n_fail = len(failures)
    print(f"browser check: {len(pages) - n_fail} passed, {n_fail} failed ({len(pages)} pages, {len(chapters)} chapters, "
          f"screenshots in {shots})")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"))
