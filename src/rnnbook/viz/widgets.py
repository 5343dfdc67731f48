"""Widgets for Jupyter and Colab. Each has a static twin that draws the same picture for the HTML book."""

from __future__ import annotations

import matplotlib.pyplot as plt

from rnnbook.viz.graphs import draw_graph


def unrolled_graph_figure(T: int, n_params: int, kind: str = "many-to-many") -> plt.Figure:
    """The graph unrolled for T steps, titled with the parameter count (the same for every T)."""
    fig, ax = plt.subplots(figsize=(1.1 * T + 1.2, 2.6))
    draw_graph(kind, T, ax=ax)
    ax.set_title(f"{kind}, T = {T}: {n_params:,} parameters", fontsize=12)
    fig.tight_layout()
    return fig


def unrolled_graph_static(Ts: tuple[int, ...], n_params: int, kind: str = "many-to-many") -> plt.Figure:
    """Static twin of ``unroll_widget``: the graph for several T in one figure."""
    fig, axes = plt.subplots(1, len(Ts), figsize=(sum(0.55 * T + 0.5 for T in Ts), 2.9),
                             gridspec_kw={"width_ratios": list(Ts)})
    for ax, T in zip(axes, Ts):
        draw_graph(kind, T, ax=ax)
        ax.set_title(f"T = {T}\n{n_params:,} parameters", fontsize=12)
    fig.tight_layout()
    return fig


def unroll_widget(n_params: int, kind: str = "many-to-many", max_T: int = 10):
    """A slider for T that redraws the unrolled graph; the parameter count in the title never changes."""
    import ipywidgets as widgets

    def show(T: int) -> None:
        unrolled_graph_figure(T, n_params, kind)
        plt.show()

    return widgets.interact(show, T=widgets.IntSlider(value=3, min=1, max=max_T, description="T"))
