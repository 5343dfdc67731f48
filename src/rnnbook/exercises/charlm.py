"""Checks for the character-language-model chapter's exercises. Each prints what is wrong, and returns a bool."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rnnbook.exercises.common import as_number
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import compare as _compare


def _nucleus(logits: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    before = np.cumsum(p[order]) - p[order]  # the mass of the characters ranked above each one
    keep = np.zeros(p.shape, dtype=bool)
    keep[order[before < top_p]] = True  # the smallest top set whose mass reaches top_p
    out = np.where(keep, p, 0.0)
    return out / out.sum()


def check_nucleus_probs(fn: Callable) -> bool:
    """Check ``fn(logits (V,), temperature, top_p) -> probabilities (V,)``: nucleus (top-p) sampling.

    p = softmax(logits / T); keep the smallest set of most likely characters whose total probability reaches
    ``top_p`` (the character that crosses it is kept), zero the rest, renormalise. ``top_p = 1`` keeps all.
    """
    name = "check_nucleus_probs"
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0, 0.0, -2.5, 1.0])
    for temperature, top_p in [(1.0, 1.0), (1.0, 0.9), (0.5, 0.9), (2.0, 0.5), (1.0, 0.5), (1.0, 0.01)]:
        ok, got = _call(name, fn, logits.clone(), temperature, top_p)
        if not ok:
            return False
        lg = logits.numpy().astype(float)
        want = _nucleus(lg, temperature, top_p)
        p = np.exp(lg / temperature - (lg / temperature).max())
        p /= p.sum()
        order = np.argsort(-p, kind="stable")
        strict = np.zeros_like(p)
        kept = order[np.cumsum(p[order]) <= top_p]
        strict[kept] = p[kept]
        strict = strict / strict.sum() if strict.sum() > 0 else strict
        hints = {"the set whose mass stays at or below top_p: keep the character that crosses top_p too": strict,
                 "the kept probabilities before renormalising them to sum to 1": np.where(want > 0, p, 0.0),
                 "nucleus at temperature 1: divide the logits by the temperature first":
                     _nucleus(lg, 1.0, top_p),
                 "softmax(logits / T) with nothing removed": p}
        hints = {k: v for k, v in hints.items() if not np.allclose(v, want)}
        if not _compare(name, f"the probabilities for temperature={temperature}, top_p={top_p}", got, want, hints):
            return False
    print(f"{name}: correct.")
    return True


def _bigram_nats(train: np.ndarray, val: np.ndarray, V: int, alpha: float) -> tuple[float, float, float]:
    """Mean nats of ``val`` under the add-alpha bigram of ``train``; also two common wrong versions."""
    counts = np.zeros((V, V))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    probs = (counts + alpha) / (counts.sum(1, keepdims=True) + alpha * V)
    right = float(-np.log(probs[val[:-1], val[1:]]).mean())
    unnorm = (counts + alpha) / (counts.sum(1, keepdims=True) + alpha)  # alpha added once, not V times
    no_v = float(-np.log(np.minimum(unnorm[val[:-1], val[1:]], 1)).mean())
    unigram_denominator = np.bincount(train, minlength=V)[:, None] + alpha * V
    by_unigram = float(-np.log(((counts + alpha) / unigram_denominator)[val[:-1], val[1:]]).mean())
    return right, no_v, by_unigram


def check_bigram_perplexity(fn: Callable) -> bool:
    """Check ``fn(train_ids, val_ids, V, alpha) -> perplexity``: exp of the mean nats of each val character after
    the first under the add-alpha bigram, p(w | h) = (c(hw) + alpha) / (sum_v c(hv) + alpha V), counted on train."""
    name = "check_bigram_perplexity"
    rng = np.random.default_rng(0)
    V = 6
    train = rng.choice(V, size=500, p=[0.4, 0.2, 0.15, 0.15, 0.1, 0.0])  # symbol 5 never occurs in training
    val = np.concatenate([rng.choice(V, size=200, p=[0.4, 0.2, 0.15, 0.15, 0.05, 0.05]), [5, 5]])
    for alpha in (1.0, 0.1):
        ok, got = _call(name, fn, train.copy(), val.copy(), V, alpha)
        if not ok:
            return False
        got = as_number(name, got, "one number (the perplexity)")
        if got is None:
            return False
        nats, no_v, by_unigram = _bigram_nats(train, val, V, alpha)
        want = float(np.exp(nats))
        if abs(got - want) < 1e-6 * want:
            continue
        print(f"{name}: with alpha={alpha} you got {got:.5f}, expected a perplexity of {want:.5f}.")
        hints = {nats: "the mean nats per character: the perplexity is e to that power",
                 nats / np.log(2): "bits per character: the perplexity is 2 to that power",
                 float(2 ** nats): "2 ** nats: with natural logarithms the base is e",
                 float(np.exp(no_v)): "the smoothing adds alpha to each of the V counts of a context, so the "
                                      "denominator grows by alpha * V, not alpha",
                 float(np.exp(by_unigram)): "the denominator should count the bigrams that start with h; "
                                            "the unigram count of h also counts the last character of train",
                 }
        for value, hint in hints.items():
            if hint and np.isfinite(value) and abs(got - value) < 1e-6 * max(abs(value), 1e-12):
                print(f"  hint: that is {hint}.")
                break
        else:
            if not np.isfinite(got):
                print("  hint: an infinite (or NaN) perplexity means a probability of 0 (or 0/0): symbol 5 never "
                      "occurs in train, so only the alpha of the smoothing gives it a probability.")
        return False
    print(f"{name}: correct.")
    return True
