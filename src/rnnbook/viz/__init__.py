"""Figures, tables, graph diagrams and widgets (each widget with a static twin). Viz never trains.

Importing it sets the book's figure style (``rnnbook.viz.style``: a colour-blind-safe palette, legible fonts).
"""

from rnnbook.viz import style

style.apply()

from rnnbook.viz.attention import attention_widget, caption_attention_figure, vqa_attention_figure
from rnnbook.viz.captions import caption_grid, caption_panel, failure_grid
from rnnbook.viz.glimpse import glimpse_widget, plot_glimpse_paths
from rnnbook.viz.graphs import GRAPH_KINDS, draw_all_graphs, draw_graph
from rnnbook.viz.plots import plot_losses
from rnnbook.viz.table import Table, table
from rnnbook.viz.textcolor import activation_html, cell_widget, cells_html, saturation_plot
from rnnbook.viz.widgets import unroll_widget, unrolled_graph_figure, unrolled_graph_static

__all__ = ["GRAPH_KINDS", "Table", "activation_html", "attention_widget", "caption_attention_figure", "caption_grid", "caption_panel",
           "cell_widget", "cells_html", "draw_all_graphs", "draw_graph", "failure_grid", "glimpse_widget",
           "plot_glimpse_paths", "plot_losses", "saturation_plot", "table", "unroll_widget", "unrolled_graph_figure",
           "unrolled_graph_static", "vqa_attention_figure"]
