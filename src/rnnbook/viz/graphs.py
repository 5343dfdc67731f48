"""Computational graphs of the lecture, drawn by code: inputs (orange), hidden states
(bluish green), outputs (sky blue), light tints of the Okabe-Ito palette (see rnnbook.viz.style).

Kinds: ``one-to-one``, ``one-to-many``, ``many-to-one``, ``many-to-many``, ``seq2seq``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

ROLE_COLORS = {"x": "#f7d19c", "h": "#99d8c4", "y": "#b3dcf4", "enc": "#99d8c4", "dec": "#e8bfda"}
GRAPH_KINDS = ("one-to-one", "one-to-many", "many-to-one", "many-to-many", "seq2seq")


def _layout(kind: str, T: int) -> tuple[list[bool], list[bool], list[str]]:
    """Which steps have an input, which an output, and the colour role of each hidden box."""
    if kind == "one-to-one":
        return [True], [True], ["h"]
    if kind == "one-to-many":
        return [t == 0 for t in range(T)], [True] * T, ["h"] * T
    if kind == "many-to-one":
        return [True] * T, [t == T - 1 for t in range(T)], ["h"] * T
    if kind == "many-to-many":
        return [True] * T, [True] * T, ["h"] * T
    if kind == "seq2seq":
        n_enc = (T + 1) // 2
        return ([t < n_enc for t in range(T)], [t >= n_enc for t in range(T)],
                ["enc" if t < n_enc else "dec" for t in range(T)])
    raise ValueError(f"unknown graph kind {kind!r}; choose one of {GRAPH_KINDS}")


def _box(ax: Axes, x: float, y: float, color: str, label: str) -> None:
    ax.add_patch(FancyBboxPatch((x - 0.3, y - 0.25), 0.6, 0.5, boxstyle="round,pad=0.02",
                                facecolor=color, edgecolor="black", linewidth=1))
    ax.text(x, y, label, ha="center", va="center", fontsize=12)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str | None = None) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=1))
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.12, label, ha="center", fontsize=12, color="#444")


def draw_graph(kind: str, T: int = 4, ax: Axes | None = None, show_weights: bool = True) -> Axes:
    """Draw one unrolled computational graph with T steps; every recurrent arrow carries the same W."""
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    has_x, has_y, roles = _layout(kind, T if kind != "one-to-one" else 1)
    ax = ax or plt.gca()
    n = len(roles)
    for t in range(n):
        _box(ax, t, 1, ROLE_COLORS[roles[t]], f"$h_{{{t + 1}}}$")
        if has_x[t]:
            _box(ax, t, 0, ROLE_COLORS["x"], f"$x_{{{t + 1}}}$")
            _arrow(ax, (t, 0.25), (t, 0.75))
        if has_y[t]:
            _box(ax, t, 2, ROLE_COLORS["y"], f"$y_{{{t + 1}}}$")
            _arrow(ax, (t, 1.25), (t, 1.75))
        if t > 0:
            _arrow(ax, (t - 0.7, 1), (t - 0.3, 1), "W" if show_weights else None)
    ax.set_xlim(-0.6, max(n, 2) - 0.4)
    ax.set_ylim(-0.5, 2.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(kind, fontsize=12)
    return ax


def draw_all_graphs(T: int = 4) -> plt.Figure:
    """The lecture's gallery: one-to-one, one-to-many, many-to-one, many-to-many and seq2seq side by side."""
    fig, axes = plt.subplots(1, len(GRAPH_KINDS), figsize=(2.0 * len(GRAPH_KINDS), 2.6),
                             gridspec_kw={"width_ratios": [1.3] + [T] * (len(GRAPH_KINDS) - 2) + [T + 2]})
    for ax, kind in zip(axes, GRAPH_KINDS):
        draw_graph(kind, T + 2 if kind == "seq2seq" else T, ax=ax)
    fig.tight_layout()
    return fig
