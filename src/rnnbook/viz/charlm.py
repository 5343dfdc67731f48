"""Samples of a character model as HTML (inline styles, so they show in the static book), and a sampling widget.

``sampling_widget`` (sliders for temperature and top-k, Jupyter/Colab) and ``sample_panel`` (a fixed set of settings,
for the HTML book) draw the same panel.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

_BOX = ("font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; white-space: pre-wrap; "
        "border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; margin: 2px 0 10px 0; background: #fafafa; color: #111")


def samples_html(samples: dict[str, str], prime: str = "") -> str:
    """One box per sample, titled by its key; the priming text is shown in grey, the sampled text in black."""
    parts = []
    for label, text in samples.items():
        head, tail = (text[: len(prime)], text[len(prime):]) if prime and text.startswith(prime) else ("", text)
        parts.append(f'<div style="font-size: 13px; opacity: 0.85; margin-top: 4px">{html.escape(label)}</div>'
                     f'<div class="rnnbook-sample" style="{_BOX}"><span style="color: #666">{html.escape(head)}</span>'
                     f'<span style="color: #111">{html.escape(tail)}</span></div>')
    return "".join(parts)


def sample_panel(model, vocab, prime: str, settings: Sequence[tuple[float, int | None]] = ((0.5, None), (1.0, None),
                 (1.5, None)), n: int = 300, seed: int = 0):
    """Samples of ``model`` (a ``CharLM``) after ``prime`` for each (temperature, top_k), as displayable HTML."""
    from IPython.display import HTML

    samples = {f"temperature {t}" + (f", top-{k}" if k else ""): model.sample(vocab, prime, n, t, k, seed=seed)
               for t, k in settings}
    return HTML(samples_html(samples, prime))


def sampling_widget(model, vocab, prime: str, n: int = 300):
    """Sliders for the temperature and top-k (0 = all characters) that redraw a sample."""
    import ipywidgets as widgets
    from IPython.display import display

    def show(temperature: float, top_k: int, seed: int) -> None:
        display(sample_panel(model, vocab, prime, [(temperature, top_k or None)], n, seed))

    return widgets.interact(show, temperature=widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1),
                            top_k=widgets.IntSlider(value=0, min=0, max=len(vocab)),
                            seed=widgets.IntSlider(value=0, min=0, max=20))
