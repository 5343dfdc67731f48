"""Plots shared by the chapters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_losses(curves: Mapping[str, Sequence[float]], smooth: int = 20, ax=None, ylabel: str = "loss"):
    """Training curves, one line per name, smoothed by a running mean over ``smooth`` steps."""
    ax = ax or plt.subplots(figsize=(6, 3.2))[1]
    for name, values in curves.items():
        v = np.asarray(values, dtype=float)
        k = max(1, min(smooth, len(v)))
        ax.plot(np.arange(k - 1, len(v)), np.convolve(v, np.ones(k) / k, mode="valid"), label=name)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax
