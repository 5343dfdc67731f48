"""Tests of ``rnnbook.viz.table``: tables: the one way the book shows a table, in the HTML book, the PDF, JupyterLab and
Colab alike."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnbook.viz.table import table  # noqa: E402


def test_table_renders_html_markdown_and_text_from_the_same_cells():
    t = table([["LSTM", 1.98123, 12000], ["a | b", np.float64(2.1), None]], columns=["model", "nats", "params"],
              formats={"nats": ".3f"}, caption="cap")
    html = t._repr_html_()
    assert html.count("<tr>") == 3 and "a | b" in html and "1.981" in html and "12,000" in html and "<caption" in html
    assert "text-align:right" in html  # numbers to the right
    md = t._repr_markdown_().splitlines()
    assert md[0] == "| model | nats | params |" and md[1] == "|---|---:|---:|"
    assert md[3] == "| a \\| b | 2.100 |  |"
    assert "np.float64" not in repr(t) and "2.100" in repr(t)


def test_table_escapes_markup_and_checks_its_arguments():
    t = table([["**bold** <b>x</b> $a$"]], columns=["text"])
    assert "<b>x</b>" not in t._repr_html_() and "&lt;b&gt;" in t._repr_html_()
    assert "\\*\\*bold\\*\\*" in t._repr_markdown_() and "\\$a\\$" in t._repr_markdown_()
    with pytest.raises(ValueError, match="row 0 has 2 cells"):
        table([[1, 2]], columns=["one"])
    with pytest.raises(KeyError, match="'nope'"):
        table([[1]], columns=["one"], formats={"nope": ".2f"})
    with pytest.raises(ValueError, match="columns"):
        table([], columns=[])
