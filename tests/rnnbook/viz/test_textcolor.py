"""Tests of ``rnnbook.viz.textcolor``: text coloured by one cell's activation, as in Karpathy, Johnson & Fei-Fei (2016),
and the gate-saturation plot."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.interpret import gate_saturation, record_lstm

# --- viz ---------------------------------------------------------------------------------------------------------

def test_activation_html():
    from rnnbook.viz.textcolor import activation_color, activation_html

    assert activation_color(0.0) == "rgb(255,255,255)"
    assert activation_color(1.0) == "rgb(214,39,40)" and activation_color(-5.0) == "rgb(31,119,180)"
    out = activation_html("a<\n", [0.0, 1.0, -0.5], title="t")
    assert out.count("<span") == 3 and "&lt;" in out and "rgb(214,39,40)" in out
    with pytest.raises(ValueError, match="one value per character"):
        activation_html("ab", [1.0])


def test_cells_html_widget_and_saturation_plot(lstm):
    import matplotlib

    matplotlib.use("Agg")
    from rnnbook.viz.textcolor import cell_widget, cells_html, saturation_plot

    ids = np.arange(30) % 7
    rec = record_lstm(lstm, ids, "".join("ab\ncd e"[i] for i in ids))
    out = cells_html(rec, [("c", 1, 2), ("f", 0, 0)], start=5, length=10, labels=["x", "y"])
    assert out.count("<span") == 20 and "c[layer 2, unit 2]" in out and "f[layer 1, unit 0]" in out
    with pytest.raises(ValueError, match="start"):
        cells_html(rec, [("c", 0, 0)], start=30)
    fig = saturation_plot({"m": gate_saturation(rec)})
    assert len(fig.axes) == 3 and sum(len(ax.collections) for ax in fig.axes) == 6  # 3 gates x 2 layers
    cell_widget(rec, length=10)
