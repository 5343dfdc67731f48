"""Samples of a character model: a temperature slider for Jupyter/Colab and its static twin (a table of samples at
a few temperatures), boxes of samples as HTML (inline styles, so they show in the static book), and a widget with
sliders for temperature and top-k. Viz never trains: the caller passes a sampling function or a trained model.

``sample_fn(temperature, n) -> str`` draws ``n`` characters at softmax temperature T: p = softmax(y / T)
(min-char-rnn, chapter 2). ``sampling_widget`` (Jupyter/Colab) and ``sample_panel`` (a fixed set of settings, for
the HTML book) draw the same panel for a ``CharLM`` (chapters 4 and 10b).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import numpy as np

from rnnbook.viz.table import Table, table

SampleFn = Callable[[float, int], str]


def temperature_samples(sample_fn: SampleFn, temperatures: Sequence[float], n: int = 200,
                        seed: int = 0) -> dict[float, str]:
    """One sample of ``n`` characters per temperature; numpy's legacy generator is seeded with ``seed`` before each
    (the min-char-rnn sampler draws from it), so the table is the same on every run."""
    if any(not t > 0 for t in temperatures):
        raise ValueError(f"temperatures must be > 0, got {list(temperatures)}")
    out = {}
    for t in temperatures:
        np.random.seed(seed)
        out[float(t)] = sample_fn(float(t), n)
    return out


def temperature_table(samples: dict[float, str], caption: str | None = None) -> Table:
    """Static twin of ``temperature_widget``: a table (``rnnbook.viz.table``), one row per temperature, with the
    distinct characters and the most common character's share (low T repeats itself; high T approaches the uniform
    distribution)."""
    rows = []
    for t, text in samples.items():
        counts = np.unique(list(text), return_counts=True)[1] if text else np.array([0])
        rows.append([f"{t:g}", text, len(counts), f"{counts.max() / max(1, len(text)):.0%}"])
    return table(rows, ["T", "sample", "distinct chars", "top char"], caption=caption, mono=("sample",))


def temperature_widget(sample_fn: SampleFn, n: int = 200, seed: int = 0, value: float = 1.0):
    """A slider for the temperature that shows a fresh sample (seeded, so a given T always shows the same text)."""
    import ipywidgets as widgets
    from IPython.display import display

    def show(temperature: float) -> None:
        display(temperature_table(temperature_samples(sample_fn, [temperature], n, seed)))

    slider = widgets.FloatLogSlider(value=value, base=10, min=-1.3, max=0.5, step=0.05, description="temperature",
                                    readout_format=".2f", continuous_update=False)
    return widgets.interact(show, temperature=slider)


# --- samples of a CharLM --------------------------------------------------------------------------------------

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


__all__ = ["sample_panel", "samples_html", "sampling_widget", "temperature_samples", "temperature_table",
           "temperature_widget"]
