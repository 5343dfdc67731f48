"""Text coloured by one cell's activation, as in Karpathy, Johnson & Fei-Fei (2016), and the gate-saturation plot.

``activation_html`` colours every character by a value in [-1, 1] (blue for negative, red for positive), as HTML
with inline styles so that it shows in the static book. ``cells_html`` stacks several cells (the static figure);
``cell_widget`` lets a reader pick any cell in Jupyter/Colab and draws the same panel. ``saturation_plot`` is the
paper's scatter of how often each gate is left- or right-saturated.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

_BOX = ("font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; line-height: 1.5; "
        "white-space: pre-wrap; color: #111; background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; margin: 2px 0 10px 0")


def activation_color(v: float) -> str:
    """The background for a value in [-1, 1]: white at 0, blue towards -1, red towards +1 (an rgb() string)."""
    v = float(np.clip(v, -1.0, 1.0))
    if not np.isfinite(v):
        raise ValueError("activation_color: the value is NaN or inf")
    a = abs(v)
    target = (214, 39, 40) if v > 0 else (31, 119, 180)
    r, g, b = (round(255 + (c - 255) * a) for c in target)
    return f"rgb({r},{g},{b})"


def activation_html(text: str, values: Sequence[float] | np.ndarray, title: str = "",
                    scale: float | None = None) -> str:
    """``text`` with every character on a background coloured by its value (one per character).

    Values are divided by ``scale`` (default: the largest |value|, so the strongest one is fully coloured; pass 1
    for tanh-bounded h_t and gates). A newline is drawn as a coloured space before the line break.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(text),):
        raise ValueError(f"activation_html: need one value per character, got {values.shape} for {len(text)} chars")
    scale = float(np.abs(values).max()) if scale is None else float(scale)
    scaled = values / scale if scale > 0 else np.zeros_like(values)
    parts = []
    for ch, v in zip(text, scaled):
        shown = " \n" if ch == "\n" else html.escape(ch)
        parts.append(f'<span style="background-color: {activation_color(v)}">{shown}</span>')
    head = f'<div style="font-size: 13px; opacity: 0.85; margin-top: 4px">{html.escape(title)}</div>' if title else ""
    return f'{head}<div class="rnnbook-sample" style="{_BOX}">{"".join(parts)}</div>'


def cells_html(rec, cells: Sequence[tuple[str, int, int]], start: int = 0, length: int = 600,
               labels: Sequence[str] | None = None) -> str:
    """One coloured box per cell (kind, layer, unit) of a ``rnnbook.interpret.Recording``, over the same stretch
    ``text[start:start + length]``. c_t is scaled by its largest |value| in the stretch, the others by 1."""
    if not 0 <= start < len(rec.text):
        raise ValueError(f"start must be in 0..{len(rec.text) - 1}, got {start}")
    stop = min(len(rec.text), start + length)
    out = []
    for k, (kind, layer, unit) in enumerate(cells):
        values = rec.get(kind, layer)[start:stop, unit]
        label = labels[k] if labels is not None else ""
        title = f"{label}{': ' if label else ''}{kind}[layer {layer + 1}, unit {unit}]"
        out.append(activation_html(rec.text[start:stop], values, title, None if kind == "c" else 1.0))
    return "".join(out)


def cell_widget(rec, start: int = 0, length: int = 600):
    """Jupyter/Colab: pick the kind (c, h, i, f, o, g), layer and unit, and the stretch of text, and see it coloured
    (``cells_html`` draws the static twin)."""
    import ipywidgets as widgets
    from IPython.display import HTML, display

    def show(kind: str, layer: int, unit: int, start: int) -> None:
        display(HTML(cells_html(rec, [(kind, layer - 1, unit)], start, length)))

    return widgets.interact(show, kind=widgets.Dropdown(options=["c", "h", "i", "f", "o", "g"], value="c"),
                            layer=widgets.IntSlider(value=rec.layers, min=1, max=rec.layers),
                            unit=widgets.IntSlider(value=0, min=0, max=rec.hidden - 1),
                            start=widgets.IntSlider(value=start, min=0, max=max(0, len(rec.text) - length),
                                                    step=100))


def saturation_plot(sats: dict[str, dict], axes=None):
    """The paper's gate scatter: one panel per gate (i, f, o); each dot a unit, x = fraction of steps
    left-saturated (< 0.1), y = fraction right-saturated (> 0.9); colour by layer, marker by model.

    ``sats`` maps a model's name to the output of ``rnnbook.interpret.gate_saturation``. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharex=True, sharey=True)
    else:
        fig = axes[0].figure
    markers = ["o", "^", "s", "D"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, gate, name in zip(axes, ("i", "f", "o"), ("input gate i", "forget gate f", "output gate o")):
        for m, (model, sat) in enumerate(sats.items()):
            for (layer, g), (lo, hi) in sat.items():
                if g == gate:
                    ax.scatter(lo, hi, s=12, alpha=0.6, marker=markers[m % len(markers)],
                               color=colors[layer % len(colors)], label=f"{model}, layer {layer + 1}")
        ax.plot([0, 1], [1, 0], color="#bbb", lw=0.8, ls="--")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(name, fontsize=12)
        ax.set_xlabel("fraction left-saturated (< 0.1)")
    axes[0].set_ylabel("fraction right-saturated (> 0.9)")
    axes[-1].legend(frameon=False, fontsize=11, loc="upper right")
    fig.tight_layout()
    return fig
