"""Tests of ``rnnbook.claims``: the claims of a chapter: one table a reader sees, one assert CI sees, one glued output
the summary page pastes."""

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
