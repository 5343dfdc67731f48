"""Checks for the captioning chapter's exercises. Each prints what is right or what is wrong and where, and returns a bool.

An answer that still raises ``NotImplementedError`` (the template) gets a reminder, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import as_number
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import compare as _compare
from rnnbook.numpy_nn.captioning import temporal_softmax_loss, word_embedding_backward, word_embedding_forward


def check_word_embedding_backward(fn: Callable) -> bool:
    """Check ``fn(dout, x, V) -> dW`` (V, D): the gradient of out[n, t] = W[x[n, t]] with respect to W.

    The inputs repeat words, so ``dW[x] += dout`` (which keeps only one of the repeats) is caught.
    """
    name = "check_word_embedding_backward"
    rng = np.random.default_rng(0)
    V, D = 6, 3
    x = np.array([[1, 4, 4, 0], [4, 2, 1, 1]])
    dout = rng.standard_normal((2, 4, D))
    _, cache = word_embedding_forward(x, np.zeros((V, D)))
    want = word_embedding_backward(dout, cache)
    ok, got = _call(name, fn, dout, x, V)
    if not ok:
        return False
    naive = np.zeros((V, D))
    naive[x] += dout
    if not _compare(name, "dW", got, want, hints={"dW[x] += dout, which drops repeated words (use np.add.at)": naive}):
        return False
    print(f"{name}: correct, repeated words add up (word 4 appears 3 times, word 1 three times).")
    return True


def check_temporal_softmax_loss(fn: Callable) -> bool:
    """Check ``fn(x, y, mask) -> (loss, dx)``: masked cross-entropy summed over time, divided by the batch size N."""
    name = "check_temporal_softmax_loss"
    rng = np.random.default_rng(1)
    N, T, V = 4, 5, 7
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) < 0.6
    want_loss, want_dx = temporal_softmax_loss(x, y, mask)
    ok, out = _call(name, fn, x, y, mask)
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "(loss, dx)"):
        return False
    loss, dx = out
    loss = as_number(name, loss, "the loss as one number (a float)")
    if loss is None:
        return False
    if not np.isclose(float(loss), want_loss, rtol=1e-6):
        hint = ""
        full, _ = temporal_softmax_loss(x, y, np.ones_like(mask))
        if np.isclose(float(loss), full, rtol=1e-6):
            hint = " It equals the loss without the mask: multiply each position's loss by mask."
        elif np.isclose(float(loss), want_loss * N / mask.sum(), rtol=1e-6):
            hint = " It equals the mean over unmasked words: CS231n divides the sum by N (captions), not by words."
        elif np.isclose(float(loss), want_loss / T, rtol=1e-6):
            hint = " It is T times too small: sum over time, do not average."
        print(f"{name}: loss is {float(loss):.6f}, expected {want_loss:.6f}.{hint}")
        return False
    if not _compare(name, "dx", dx, want_dx):
        return False
    print(f"{name}: correct, loss {want_loss:.4f} and its gradient.")
    return True
