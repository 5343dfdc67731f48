"""Figures of truncated BPTT: which inputs each output learns from, and accuracy against delay.

``truncation_widget`` (a slider for k, Jupyter/Colab) and ``truncation_static`` (the same drawing for a few k, for the
HTML book) both call ``plot_gradient_mask``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from rnnbook.tbptt import gradient_mask
from rnnbook.viz.style import BAD


def plot_gradient_mask(T: int, k: int, ax=None):
    """Image of ``gradient_mask(T, k)``: row t = the output at step t, dark cell s = an input it gets gradient from."""
    ax = ax or plt.subplots(figsize=(3.2, 3.2))[1]
    ax.imshow(gradient_mask(T, k), cmap="Greys", vmin=0, vmax=1.4)
    for b in range(k, T, k):  # chunk boundaries
        ax.axvline(b - 0.5, color=BAD, lw=1)
        ax.axhline(b - 0.5, color=BAD, lw=1)
    ax.set_xlabel("input step s")
    ax.set_ylabel("output step t")
    ax.set_title("full BPTT" if k >= T else f"truncated, k = {k}", fontsize=12)
    return ax


def truncation_static(T: int = 16, ks: Sequence[int] = (16, 8, 4)) -> plt.Figure:
    """Static twin of ``truncation_widget``: the gradient mask for several k side by side."""
    fig, axes = plt.subplots(1, len(ks), figsize=(3.0 * len(ks), 3.1))
    for ax, k in zip(np.atleast_1d(axes), ks):
        plot_gradient_mask(T, k, ax)
    fig.tight_layout()
    return fig


def truncation_widget(T: int = 16):
    """A slider for k that redraws the gradient mask of T steps."""
    import ipywidgets as widgets

    def show(k: int) -> None:
        plot_gradient_mask(T, k)
        plt.show()

    return widgets.interact(show, k=widgets.IntSlider(value=4, min=1, max=T, description="k"))


def plot_accuracy_vs_delay(accuracy: Mapping[int, Mapping[int, float]], chance: float | None = None, ax=None):
    """``accuracy[k][d]``: one line per truncation length k, with a dotted line at d = k."""
    ax = ax or plt.subplots(figsize=(5.5, 3.2))[1]
    for i, (k, by_delay) in enumerate(sorted(accuracy.items())):
        ds = sorted(by_delay)
        line, = ax.plot(ds, [by_delay[d] for d in ds], "o-", label=f"k = {k}")
        ax.axvline(k, color=line.get_color(), ls=":", lw=1)
    if chance is not None:
        ax.axhline(chance, color="grey", ls="--", lw=1, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("delay d (steps back to the needed input)")
    ax.set_ylabel("recall accuracy")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax
