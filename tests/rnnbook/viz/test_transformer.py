"""Tests of ``rnnbook.viz.transformer``: figures of chapter 10b's self-attention measurements: the 1/sqrt(d_k) scale,
and the attention of each head."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnbook.models.self_attention import (
    score_statistics,
)  # noqa: E402
from rnnbook.viz.transformer import plot_head_attention, plot_score_scaling  # noqa: E402


def test_figures():
    s = score_statistics([1, 4], T=8, n=50)
    assert isinstance(plot_score_scaling([1, 4], s, T=8), plt.Figure)
    assert isinstance(plot_head_attention({"head 1": np.eye(4)}), plt.Figure)
    with pytest.raises(ValueError):
        plot_head_attention({})
    plt.close("all")
