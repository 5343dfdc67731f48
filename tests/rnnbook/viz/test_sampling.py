"""Samples as tables and HTML (``rnnbook.viz.sampling``): seeded, escaped, shown through the book's one table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.data import Vocab
from rnnbook.models.charlm import CharLM
from rnnbook.viz.sampling import sample_panel, samples_html, temperature_samples, temperature_table
from rnnbook.viz.table import Table


def draw(T, n):
    return "".join(np.random.choice(list("ab<"), n))


def test_temperature_table_is_a_seeded_book_table():
    samples = temperature_samples(draw, [0.5, 2.0], n=30, seed=1)
    assert samples == temperature_samples(draw, [0.5, 2.0], 30, 1)
    shown = temperature_table(samples, caption="c")
    assert isinstance(shown, Table) and shown.columns == ["T", "sample", "distinct chars", "top char"]
    html = shown._repr_html_()
    assert html.count("<tr>") == 3 and "&lt;" in html and "<caption" in html and 'class="rnnbook-sample"' in html
    assert "<caption" not in temperature_table(samples)._repr_html_()
    with pytest.raises(ValueError, match="temperatures"):
        temperature_samples(lambda T, n: "", [0.0])


def test_samples_html_greys_the_prime_and_escapes():
    out = samples_html({"T = 1": "ab<c"}, prime="ab")
    assert '<span style="color: #666">ab</span>' in out and "&lt;c" in out and "T = 1" in out


def test_sample_panel_shows_one_box_per_setting():
    torch.manual_seed(0)
    vocab = Vocab("abc\n")
    model = CharLM(len(vocab), hidden=8)
    panel = sample_panel(model, vocab, "ab", settings=[(0.5, None), (1.0, 2)], n=20)
    assert panel.data.count('class="rnnbook-sample"') == 2 and "top-2" in panel.data
