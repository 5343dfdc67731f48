"""The book's figure style: one palette, one set of font sizes, a light background; applied when rnnbook.viz is
imported.

- Colours: the Okabe-Ito palette (Okabe & Ito, 2008), distinguishable with every common colour-vision deficiency.
  ``GOOD``/``BAD`` mark right and wrong (blue and vermillion, never red against green) and always come with a
  mark (✓/✗) so that colour is never the only cue.
- Text: a figure is shown at most ``COLUMN_PX`` wide in the book; text must stay at least ``MIN_TEXT_PX`` there
  (80 % of the 16 px body font). ``text_px`` gives a font's size on the page, ``fontsize_for`` the size that a
  figure of a given width needs.
- Background: white, also in the theme's dark mode (the book's stylesheet keeps images on white).
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
GOOD, BAD, NEUTRAL = "#0072B2", "#D55E00", "#333333"
COLUMN_PX = 800        # the article column at a 1280 px wide window (book/_ext/static/rnnbook/book.css)
BODY_PX = 16.0         # the body font of the book
MIN_TEXT_PX = 0.8 * BODY_PX
DPI = 100              # what the inline backend renders at (figure.dpi)

RC = {
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "image.cmap": "viridis",
    "figure.dpi": DPI,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 13,
}


def text_px(fontsize_pt: float, fig_width_in: float, column_px: float = COLUMN_PX, dpi: float = DPI) -> float:
    """The height in page pixels of a font of ``fontsize_pt`` points in a figure ``fig_width_in`` inches wide, once
    the book scales the figure down to the column (a figure narrower than the column is shown at its own size)."""
    shrink = min(1.0, column_px / (fig_width_in * dpi))
    return fontsize_pt * dpi / 72 * shrink


def fontsize_for(fig_width_in: float, px: float = MIN_TEXT_PX + 0.5) -> float:
    """The smallest font (points) that reads at ``px`` page pixels in a figure ``fig_width_in`` inches wide."""
    return px / text_px(1.0, fig_width_in)


def apply() -> None:
    """Set the book's style in matplotlib's rcParams (what ``import rnnbook.viz`` does)."""
    mpl.rcParams.update(RC)


__all__ = ["BAD", "COLUMN_PX", "GOOD", "MIN_TEXT_PX", "NEUTRAL", "OKABE_ITO", "RC", "apply", "fontsize_for", "text_px"]
