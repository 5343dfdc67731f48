"""The book's claims summary page (book/summary.md) pastes every chapter that reports claims, under its own key."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


SUMMARY = ROOT / "book" / "summary.md"


REPORT = re.compile(r"""report_claims\(\s*["']([0-9A-Za-z_-]+)["']""")


PASTE = re.compile(r"```\{glue\} (claims-[0-9A-Za-z_-]+)\n:doc: ([^\n]+)\n```")


def _chapters_reporting() -> dict[str, str]:
    import nbformat

    found = {}
    for path in sorted((ROOT / "book").glob("[0-9][0-9]*_*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        for chapter in REPORT.findall(code):
            found[path.name] = chapter
    return found


def test_every_chapter_that_reports_claims_is_pasted_on_the_summary_page():
    pasted = {(key, doc) for key, doc in PASTE.findall(SUMMARY.read_text())}
    for name, chapter in _chapters_reporting().items():
        assert (f"claims-{chapter}", name) in pasted, f"book/summary.md does not paste claims-{chapter} from {name}"


def test_summary_page_pastes_existing_chapters_under_their_own_keys():
    pasted = PASTE.findall(SUMMARY.read_text())
    assert pasted, "book/summary.md pastes no claims"
    for key, doc in pasted:
        assert (ROOT / "book" / doc).is_file(), f"summary.md pastes {key} from {doc}, which does not exist"
        assert key == f"claims-{doc.split('_')[0]}", f"{doc}'s key should be claims-{doc.split('_')[0]}, got {key}"
