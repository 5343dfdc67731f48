"""report_claims: the table, the glued outputs (myst-nb's mime bundle), and the assert that names the failing claim."""

from __future__ import annotations

import pytest

from rnnbook.claims import claims_html, claims_key, claims_markdown, report_claims


def test_table_and_keys():
    md = claims_markdown({"a | b holds": True, "c fails": False})
    assert md.splitlines()[2] == "| a \\| b holds | yes |" and md.splitlines()[3].endswith("| NO |")
    assert "&lt;" in claims_html({"x < y": True})
    assert claims_key("04") == "claims-04" and claims_key("04", "lstm-val") == "claims-04-lstm-val"
    with pytest.raises(ValueError):
        claims_key("04", "has space")


def test_report_glues_and_passes(monkeypatch):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display=True: glued.__setitem__(key, value))
    report_claims("10", {"one holds": True}, numbers={"acc": 0.9})
    assert set(glued) == {"claims-10", "claims-10-acc"} and glued["claims-10-acc"] == 0.9


def test_report_names_the_failing_claim():
    with pytest.raises(AssertionError, match="'the second one'") as err:
        report_claims("10", {"the first one": True, "the second one": False}, glue=False)
    assert "1 of 2" in str(err.value) and "the first one" not in str(err.value)


@pytest.mark.parametrize("claims,numbers,error", [
    ({}, None, ValueError), ({"x": 1}, None, TypeError), ({"x": True}, {"bad key": 1.0}, ValueError),
    ({"x": True}, {"nan": float("nan")}, TypeError)])
def test_malformed_arguments(claims, numbers, error):
    with pytest.raises(error):
        report_claims("10", claims, numbers, glue=False)


# --- the summary page pastes every chapter's claims (book/summary.md) ---
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def test_numpy_and_torch_comparisons_count_as_claims():
    import numpy as np
    import torch

    report_claims("10", {"numpy": np.float64(1.0) < 2, "torch": torch.tensor(1.0) < 2}, glue=False)
    with pytest.raises(TypeError):
        report_claims("10", {"an array is not one claim": torch.tensor([1, 3]) < 2}, glue=False)


def test_claims_read_back_from_their_markdown_table():
    from rnnbook.claims import claims_from_markdown, claims_markdown

    claims = {"LSTM < trigram (1.9 < 2.1 nats/char)": True, "a | pipe, <tags> & an ampersand": False, "c": True}
    assert claims_from_markdown(claims_markdown(claims)) == claims
    with pytest.raises(ValueError, match="not a claims table"):
        claims_from_markdown("| model | loss |\n|---|---|\n| x | 1 |")
