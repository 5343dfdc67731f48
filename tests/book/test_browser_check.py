"""The browser check finds each defect it is there for: a page made with all of them, one with none."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("browser_check", ROOT / "tests" / "book" / "browser_check.py")
browser_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(browser_check)

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PAGE = """<!DOCTYPE html><html data-theme="light"><head><meta charset="utf-8"><style>
html[data-theme="dark"] body {{ background: #121212; color: #ddd; }}</style></head><body><main>
<h1>Chapter</h1><section id="s1"><h2>One</h2><p>Prose.</p>
<div class="cell_input"><div class="highlight"><pre>{code}</pre></div></div>
<div class="cell_output"><div class="output text_html">{output}</div>
<div class="output stream">{stream}</div></div>
<img src="data:image/png;base64,{png}" {alt}>
</section></main></body></html>"""


def _page(tmp_path: Path, **parts) -> Path:
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "book" / "01_x.html").write_text(PAGE.format(png=PNG, **parts))
    return html


@pytest.mark.skipif(not Path(browser_check.CHROMIUM).exists(), reason="no Chromium at /usr/bin/chromium")
def test_each_defect_is_found_and_a_clean_page_passes(tmp_path):
    bad = _page(tmp_path / "bad", code="x = " + "1 + " * 80 + "1",
                output="<p>| a | b |\n|---|---|\n| 1 | 2 |</p><p>**bold** and $x^2$</p>"
                       "<span style='color:#222'>dark text on the dark theme</span>"
                       "<div style='width:300px'><table><tr><td>" + "a_wide_cell" * 40 + "</td></tr></table></div>"
                       "<mjx-container display='true' style='display:block;overflow:hidden'>"
                       "<mjx-math style='display:inline-block;width:3000px'>x</mjx-math></mjx-container>",
                stream="np.float64(0.903)\nUserWarning: something\nloss: 100%|####| 500/500 [00:31<00:00]",
                alt="")
    _, _, failures, totals, _ = browser_check.run(bad)
    for check in ("raw Markdown", "scrolling code", "warnings and tracebacks", "object reprs", "progress bars",
                  "images without alt text", "dark-mode contrast"):
        assert totals[check] >= 1, (check, failures)
    assert totals["raw Markdown"] >= 3  # the pipe table, the ** and the $...$
    assert any("scrolls sideways" in p and "table" in p for p in failures["book/01_x.html"]["scrolling code"])
    assert any("display math" in p for p in failures["book/01_x.html"]["scrolling code"])
    good = _page(tmp_path / "good", code="x = 1 + 1", output="<table class='rnnbook-table'><tr><td>1</td></tr></table>",
                 stream="loss 1.23 after 500 steps", alt='alt="a loss curve falling"')
    _, _, failures, totals, _ = browser_check.run(good)
    found = {check: n for check, n in totals.items() if n and check != "Colab link"}
    assert not found, failures
    shutil.rmtree(tmp_path, ignore_errors=True)
