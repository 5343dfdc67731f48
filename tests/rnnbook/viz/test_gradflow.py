"""Tests of ``rnnbook.viz.gradflow``: figures of the gradient-flow chapter: ||dh_t/dh_0|| against its bound, gradients
by lag and by layer, and training with and without clipping. ``gradient_flow_widget`` has a static twin,
``gradient_flow_static``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnnbook.viz import gradflow as viz  # noqa: E402

# ---------------------------------------------------------------- figures


def test_figures_draw():
    fig = viz.gradient_flow_static(sigmas=(0.9, 1.1), nonlinearities=("linear", "relu"), T=30)
    assert len(fig.axes) == 4
    viz.plot_lag_norms({"a": np.array([1.0, 0.1, 0.0])}, mark=1)
    viz.plot_layer_norms({"a": np.array([1.0, 0.5])})
    viz.plot_slopes([0.5, 1.0, 2.0], {"tanh": [-0.7, -0.4, 0.0]})
    viz.plot_clipping_runs({"none": [1.0, np.inf], "clip": [1.0, 0.5, 0.2]},
                           {"none": [1.0, 1e9], "clip": [3.0, 2.0, 1.0]}, clip_norm=1.0)
    plt.close("all")
