"""Tests of ``rnnbook.viz.style``: the book's figure style: one palette, one set of font sizes, a light background;
applied when rnnbook.viz is imported."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from rnnbook.viz import style  # noqa: E402


def smallest_text_px(fig) -> tuple[float, str]:
    """The smallest visible text of ``fig`` in page pixels once the book shows the (tightly cropped) figure at most
    ``style.COLUMN_PX`` wide, as the inline backend saves it (bbox_inches='tight')."""
    # Agg explicitly: another test in the same process may have switched the pyplot backend.
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    bbox = fig.get_tightbbox(canvas.get_renderer())
    width_px = bbox.width * fig.dpi
    shrink = min(1.0, style.COLUMN_PX / width_px)
    hidden = {id(t) for ax in fig.axes if not ax.axison for t in ax.get_xticklabels() + ax.get_yticklabels()}
    texts = [t for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    smallest = min(texts, key=lambda t: t.get_fontsize())
    return smallest.get_fontsize() * fig.dpi / 72 * shrink, smallest.get_text()


def _images(n, size=32):
    return np.random.default_rng(0).random((n, 3, size, size))


def _figures():
    from rnnbook.viz import (
        attention,
        captions,
        glimpse,
        gradflow,
        graphs,
        tbptt,
        widgets,
    )

    caps = ["there is a red circle left of a small blue square"] * 12
    refs = [["there is a red circle left of a blue square"]] * 12
    words = "a red circle left of a blue square <END>".split()
    yield "caption_grid", captions.caption_grid(_images(12), caps, refs, ncols=4, title="Captions")
    yield "failure_grid", captions.failure_grid(_images(12), caps, refs, np.linspace(0, 1, 12), k=8)[0]
    yield "caption_panel", captions.caption_panel(_images(1)[0], {"greedy": caps[0], "beam": caps[1]}, refs[0])
    alphas = np.random.default_rng(0).dirichlet(np.ones(64), size=len(words))
    yield "caption_attention_figure", attention.caption_attention_figure(_images(1)[0], words, alphas)
    yield "vqa_attention_figure", attention.vqa_attention_figure(
        _images(6), ["what colour is the circle?"] * 6, ["red"] * 6, ["blue"] * 6,
        np.random.default_rng(0).dirichlet(np.ones(64), size=(6, 2)))
    yield "draw_all_graphs", graphs.draw_all_graphs()
    yield "unrolled_graph_static", widgets.unrolled_graph_static((2, 4, 8), 1234)
    yield "truncation_static", tbptt.truncation_static()
    yield "gradient_flow_static", gradflow.gradient_flow_static()
    locs = np.random.default_rng(0).uniform(-1, 1, (12, 4, 2))
    axes = glimpse.plot_glimpse_paths(np.random.default_rng(0).random((12, 8, 8)), locs, 2, labels=list(range(12)),
                                      predictions=list(range(11)) + [0])
    yield "plot_glimpse_paths", axes[0].figure


@pytest.mark.parametrize("name,fig", list(_figures()), ids=lambda x: x if isinstance(x, str) else "")
def test_figure_text_is_legible_at_the_column_width(name, fig):
    px, text = smallest_text_px(fig)
    plt.close(fig)
    assert px >= style.MIN_TEXT_PX, (f"{name}: {text!r} is {px:.1f} px on the page, under {style.MIN_TEXT_PX:.1f} px "
                                     f"(80 % of the body font)")


def test_text_px_scales_with_the_figure():
    assert style.text_px(12, 5) == pytest.approx(12 * 100 / 72)         # narrower than the column: shown as is
    assert style.text_px(12, 16) == pytest.approx(12 * 100 / 72 / 2)  # twice the column: half the size
    assert style.text_px(style.fontsize_for(14), 14) >= style.MIN_TEXT_PX


def test_palette_is_okabe_ito_and_has_no_red_green_pair():
    import rnnbook.viz  # noqa: F401  (sets the style)

    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colors[:3] == style.OKABE_ITO[:3]
    assert style.GOOD.lower() != "#009e73" and style.BAD.lower() != "#009e73"  # right/wrong are not green/red
    assert matplotlib.rcParams["figure.facecolor"] == "white"
