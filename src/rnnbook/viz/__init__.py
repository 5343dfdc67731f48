"""Figures, graph diagrams and widgets (each widget with a static twin). Viz never trains."""

from rnnbook.viz.graphs import KINDS, draw_all_graphs, draw_graph
from rnnbook.viz.plots import plot_losses
from rnnbook.viz.widgets import unroll_widget, unrolled_graph_figure, unrolled_graph_static

__all__ = ["KINDS", "draw_all_graphs", "draw_graph", "plot_losses", "unroll_widget", "unrolled_graph_figure",
           "unrolled_graph_static"]
