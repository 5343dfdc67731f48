"""Checks for the recurrence chapter's exercises. Each prints what is right or what is wrong and where, and returns a bool.

An answer that still raises ``NotImplementedError`` (the template) gets a reminder, not a failure, so a
notebook runs top to bottom before the exercise is done. The chapters assert the check on the solution.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import compare as _compare
from rnnbook.numpy_nn import multilayer_rnn_forward, rnn_step_backward, rnn_step_forward


def _rnn_inputs(seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((D, H)) * 0.5,
            rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H))


def check_rnn_step_forward(fn: Callable) -> bool:
    """Check ``fn(x, prev_h, Wx, Wh, b) -> next_h`` (or ``(next_h, cache)``) against h_t = tanh(x Wx + h Wh + b)."""
    name = "check_rnn_step_forward"
    x, prev_h, Wx, Wh, b = _rnn_inputs()
    ok, out = _call(name, fn, x, prev_h, Wx, Wh, b)
    if not ok:
        return False
    got = out[0] if isinstance(out, tuple) else out
    want = rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
    hints = {
        "the step without the bias b": np.tanh(x @ Wx + prev_h @ Wh),
        "the step without tanh": x @ Wx + prev_h @ Wh + b,
        "the step with Wx and Wh swapped roles (Wh for x)": np.tanh(prev_h @ Wh.T + x @ Wx + b),
        "a sigmoid instead of tanh": 1 / (1 + np.exp(-(x @ Wx + prev_h @ Wh + b))),
    }
    if _compare(name, "next_h", got, want, hints):
        print(f"{name}: correct.")
        return True
    return False


def check_rnn_step_backward(fn: Callable) -> bool:
    """Check ``fn(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)`` using the package's forward cache."""
    name = "check_rnn_step_backward"
    x, prev_h, Wx, Wh, b = _rnn_inputs(1)
    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    dnext_h = np.random.default_rng(2).standard_normal(next_h.shape)
    ok, out = _call(name, fn, dnext_h, cache)
    if not ok:
        return False
    if not _returns_tuple(name, out, 5, "the tuple (dx, dprev_h, dWx, dWh, db)"):
        return False
    want = rnn_step_backward(dnext_h, cache)
    results = [_compare(name, n, g, w) for n, g, w in zip(("dx", "dprev_h", "dWx", "dWh", "db"), out, want)]
    if all(results):
        print(f"{name}: correct.")
    return all(results)


def check_multilayer_rnn(fn: Callable) -> bool:
    """Check ``fn(x, h0, W) -> top-layer states (N, T, n)`` against h^l_t = tanh(W^l [h^{l-1}_t; h^l_{t-1}])."""
    name = "check_multilayer_rnn"
    rng = np.random.default_rng(3)
    N, T, n, L = 2, 5, 4, 2
    x, h0 = rng.standard_normal((N, T, n)), rng.standard_normal((L, N, n)) * 0.1
    W = [rng.standard_normal((n, 2 * n)) * 0.5 for _ in range(L)]
    ok, got = _call(name, fn, x, h0, W)
    if not ok:
        return False
    first_layer_only = multilayer_rnn_forward(x, h0[:1], W[:1])
    if _compare(name, "the top layer's states", got, multilayer_rnn_forward(x, h0, W),
                {"the first layer's states (layer 2 was not applied)": first_layer_only}):
        print(f"{name}: correct.")
        return True
    return False
