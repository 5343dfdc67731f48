"""Figures of chapter 10b's self-attention measurements: the 1/sqrt(d_k) scale, and the attention of each head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_score_scaling(d_ks: Sequence[int], stats: Mapping[str, np.ndarray], T: int) -> plt.Figure:
    """Left: the variance of q . k against d_k, unscaled and scaled, with the theory (d_k and 1), log-log.
    Right: the mean largest softmax weight over T keys against d_k, unscaled and scaled, with 1/T (uniform)."""
    d = np.asarray(d_ks, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.loglog(d, stats["var_unscaled"], "o-", label="q·k")
    left.loglog(d, stats["var_scaled"], "s-", label="q·k / √d_k")
    left.loglog(d, d, "k:", label="theory: d_k")
    left.set_xlabel("d_k")
    left.set_ylabel("variance of the score")
    left.legend(frameon=False)
    right.semilogx(d, stats["max_weight_unscaled"], "o-", label="q·k")
    right.semilogx(d, stats["max_weight_scaled"], "s-", label="q·k / √d_k")
    right.axhline(1 / T, color="grey", ls="--", label=f"uniform (1/{T})")
    right.set_ylim(0, 1.02)
    right.set_xlabel("d_k")
    right.set_ylabel(f"largest weight of {T} (mean)")
    right.legend(frameon=False)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_head_attention(weights: Mapping[str, np.ndarray]) -> plt.Figure:
    """One heat map per head: ``weights`` maps a title to a (T, T) mean attention matrix (rows: the position that
    looks, columns: the position looked at)."""
    n = len(weights)
    if n == 0:
        raise ValueError("plot_head_attention: give at least one (T, T) matrix")
    fig, axes = plt.subplots(1, n, figsize=(2.9 * n, 3.0), squeeze=False)
    for ax, (title, w) in zip(axes[0], weights.items()):
        w = np.asarray(w)
        ax.imshow(w, vmin=0, vmax=1, cmap="viridis")
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("looks at position s")
        ax.set_ylabel("position t")
        ax.set_xticks(range(w.shape[1]))
        ax.set_yticks(range(w.shape[0]))
    fig.tight_layout()
    return fig
