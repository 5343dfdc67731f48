"""Tests of ``rnnbook.viz.glimpse``: where a recurrent attention model looks: the glimpse path over an image and the
patches it saw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnnbook.models.glimpse import glimpse  # noqa: E402
from rnnbook.viz.attention import plot_attention  # noqa: E402
from rnnbook.viz.glimpse import loc_to_pixels, plot_glimpse_paths  # noqa: E402


def test_plots_and_pixel_mapping():
    np.testing.assert_allclose(loc_to_pixels(np.array([-1.0, 0.0, 1.0]), 8), [-0.5, 3.5, 7.5])
    axes = plot_glimpse_paths(np.random.rand(3, 8, 8), np.zeros((3, 2, 2)), 2, labels=[1, 2, 3], predictions=[1, 0, 3])
    assert len(axes) == 3
    plot_attention(np.eye(3), ["a", "b", "c"], ["x", "y", "z"])
    with pytest.raises(ValueError):
        plot_attention(np.eye(3), ["a", "b"], ["x", "y", "z"])
    with pytest.raises(ValueError):
        glimpse(torch.rand(2, 8, 8), torch.zeros(3, 2), 2)
