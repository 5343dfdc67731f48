"""Tests of ``rnnbook.exercises.charlm``: checks for the character-language-model chapter's exercises. Each prints what
is wrong, and returns a bool."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.exercises.charlm import (
    check_bigram_perplexity,
    check_nucleus_probs,
)

# --- the chapter's exercise checks -------------------------------------------------------------------------------

def _nucleus(logits, T, top_p, strict=False):
    p = torch.softmax(logits / T, -1)
    sp, order = torch.sort(p, descending=True)
    keep = torch.cumsum(sp, 0) <= top_p if strict else (torch.cumsum(sp, 0) - sp) < top_p
    out = torch.zeros_like(p)
    out[order[keep]] = sp[keep]
    return out / out.sum()


def test_nucleus():
    assert check_nucleus_probs(_nucleus)


@pytest.mark.parametrize("answer, hint", [
    (lambda lg, T, p: _nucleus(lg, T, p, strict=True), "keep the character that crosses"),
    (lambda lg, T, p: _nucleus(lg, 1.0, p), "divide the logits by the temperature"),
    (lambda lg, T, p: torch.softmax(lg / T, -1), "nothing removed"),
])
def test_nucleus_names_the_mistake(answer, hint, capsys):
    assert not check_nucleus_probs(answer)
    assert hint in capsys.readouterr().out


def _bigram(train, val, V, alpha, denominator="bigrams", unit="ppl"):
    c = np.zeros((V, V))
    np.add.at(c, (train[:-1], train[1:]), 1)
    rows = c.sum(1, keepdims=True) if denominator == "bigrams" else np.bincount(train, minlength=V)[:, None]
    nats = -np.log(((c + alpha) / (rows + alpha * V))[val[:-1], val[1:]]).mean()
    return {"ppl": np.exp(nats), "nats": nats, "bits": nats / np.log(2)}[unit]


def test_bigram_perplexity():
    assert check_bigram_perplexity(_bigram)


@pytest.mark.parametrize("answer, hint", [
    (lambda *a: _bigram(*a, unit="nats"), "e to that power"),
    (lambda *a: _bigram(*a, unit="bits"), "2 to that power"),
    (lambda *a: _bigram(*a, denominator="unigram"), "bigrams that start with h"),
    (lambda t, v, V, a: _bigram(t, v, V, 0.0), "only the alpha of the smoothing"),
])
def test_bigram_perplexity_names_the_mistake(answer, hint, capsys):
    with np.errstate(all="ignore"):
        assert not check_bigram_perplexity(answer)
    assert hint in capsys.readouterr().out
