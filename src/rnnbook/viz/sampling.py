"""Samples as HTML: a temperature slider for Jupyter/Colab and its static twin, a table of samples at a few
temperatures (tables through rnnbook.viz.table). Viz never trains: the caller passes a sampling function.

``sample_fn(temperature, n) -> str`` draws ``n`` characters at softmax temperature T: p = softmax(y / T).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rnnbook.viz.table import html_table

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


def temperature_table(samples: dict[float, str], caption: str | None = None) -> str:
    """Static twin of ``temperature_widget``: an HTML table, one row per temperature, with the distinct characters
    and the most common character's share (low T repeats itself; high T approaches the uniform distribution)."""
    rows = []
    for t, text in samples.items():
        counts = np.unique(list(text), return_counts=True)[1] if text else np.array([0])
        rows.append([f"{t:g}", text, len(counts), f"{counts.max() / max(1, len(text)):.0%}"])
    return html_table(["T", "sample", "distinct chars", "top char"], rows, caption, mono_columns=(1,))


def temperature_widget(sample_fn: SampleFn, n: int = 200, seed: int = 0, value: float = 1.0):
    """A slider for the temperature that shows a fresh sample (seeded, so a given T always shows the same text)."""
    import ipywidgets as widgets
    from IPython.display import HTML, display

    def show(temperature: float) -> None:
        display(HTML(temperature_table(temperature_samples(sample_fn, [temperature], n, seed))))

    slider = widgets.FloatLogSlider(value=value, base=10, min=-1.3, max=0.5, step=0.05, description="temperature",
                                    readout_format=".2f", continuous_update=False)
    return widgets.interact(show, temperature=slider)


__all__ = ["temperature_samples", "temperature_table", "temperature_widget"]
