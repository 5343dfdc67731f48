"""Checks for the min-char-rnn chapter's exercises. Each prints what is right or what is wrong and where, and
returns a bool; a template that still raises ``NotImplementedError`` gets a reminder, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import as_number
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import compare as _compare
from rnnbook.minchar import Params
from rnnbook.minchar_batched import batched_lossFun


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return np.exp(z) / np.exp(z).sum()


def check_batched_forward_loss(fn: Callable) -> bool:
    """Check ``fn(inputs, targets, hprev, params) -> (loss, h_last)`` for B row-major streams.

    inputs, targets: int arrays (T, B); hprev: (B, H); params in the listing's shapes. ``loss`` is the summed
    cross-entropy of each stream, averaged over the B streams; ``h_last`` is (B, H).
    """
    name = "check_batched_forward_loss"
    rng = np.random.default_rng(2)
    H, V, T, B = 6, 5, 4, 3
    params = Params(rng.standard_normal((H, V)), rng.standard_normal((H, H)) * 0.5, rng.standard_normal((V, H)),
                    rng.standard_normal((H, 1)) * 0.1, rng.standard_normal((V, 1)) * 0.1)
    inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    hprev = rng.standard_normal((B, H)) * 0.5
    ok, out = _call(name, fn, inputs, targets, hprev.copy(), params)
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "the pair (loss, h_last)"):
        return False
    loss, h_last = out
    want = batched_lossFun(inputs, targets, hprev, params)
    loss = as_number(name, loss, "the loss as one number (a float)")
    if loss is None:
        return False
    if not np.isclose(loss, want[0], rtol=1e-6):
        hints = {B * want[0]: "the sum over streams (divide by B)", want[0] / T: "the mean over time steps",
                 B * want[0] / (B * T): "the mean over all characters"}
        print(f"{name}: loss is {loss:.6f}, expected {want[0]:.6f} (summed over time, averaged over streams).")
        for value, hint in hints.items():
            if np.isclose(loss, value, rtol=1e-6):
                print(f"  hint: your loss equals {hint}.")
        return False
    if not _compare(name, "h_last", h_last, want[6], {"the first state h_0 (loop stopped early)": np.tanh(
            params.Wxh.T[inputs[0]] + hprev @ params.Whh.T + params.bh.T)}):
        return False
    print(f"{name}: correct.")
    return True


def _word_probability(params: Params, ids: list[int], temperature: float) -> float:
    from rnnbook.minchar import forward

    h0 = np.zeros((params.Whh.shape[0], 1))
    _, ys, _ = forward(ids[:-1], h0, params)
    return float(np.prod([_softmax(y / temperature)[j] for y, j in zip(ys, ids[1:])]))


def check_word_probability(fn: Callable) -> bool:
    """Check ``fn(params, ids, temperature) -> float``: the probability that sampling at ``temperature``, started
    from the zero state with the character ``ids[0]``, writes exactly ``ids[1:]`` next.

    By the chain rule it is prod_t softmax(y_t / T)[ids[t+1]], with y_t computed from the true prefix ids[:t+1]
    (that prefix is what the sampler fed back whenever the string is the one drawn).
    """
    name = "check_word_probability"
    from rnnbook.minchar import forward, init_params

    state = np.random.get_state()
    np.random.seed(5)
    params = init_params(vocab_size=4, hidden_size=3)
    params = Params(*(a * 60 for a in params.as_list()))  # a model with opinions, far from uniform
    np.random.set_state(state)
    ids = [0, 1, 2, 2, 3]
    ys = forward(ids[:-1], np.zeros((3, 1)), params)[1]
    for T in (1.0, 0.5, 2.0):
        ok, got = _call(name, fn, params, list(ids), T)
        if not ok:
            return False
        got = as_number(name, got, "one number (a probability)")
        if got is None:
            return False
        want = _word_probability(params, ids, T)
        if abs(got - want) <= 1e-9 + 1e-6 * want:
            continue
        print(f"{name}: at temperature {T} you got {got:.6g}, expected {want:.6g}.")
        steps = [_softmax(y / T)[j] for y, j in zip(ys, ids[1:])]
        hints = {
            "the probability at temperature 1 (the temperature was ignored)": _word_probability(params, ids, 1.0),
            "softmax(y * T): divide the scores by the temperature": float(np.prod(
                [_softmax(y * T)[j] for y, j in zip(ys, ids[1:])])),
            "the sum of the step probabilities; the probability of a string is their product (chain rule)":
                float(np.sum(steps)),
            "the probability of the last character only; multiply every step's": float(steps[-1]),
            "the log-probability; return the probability itself": float(np.sum(np.log(steps))),
            "the product over all but the last step: the last target counts too": float(np.prod(steps[:-1])),
        }
        for hint, value in hints.items():
            if abs(got - value) <= 1e-9 + 1e-6 * abs(value):
                print(f"  hint: that is {hint}.")
                break
        return False
    print(f"{name}: correct.")
    return True


__all__ = ["check_batched_forward_loss", "check_word_probability"]
