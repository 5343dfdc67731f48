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


def _torch_count(vocab: int, n_classes: int, hidden: int) -> int:
    from rnnbook.models import ManyToMany, count_parameters

    return int(count_parameters(ManyToMany(vocab=vocab, n_classes=n_classes, hidden=hidden)))


def check_param_count(fn: Callable) -> bool:
    """Check ``fn(vocab, n_classes, hidden) -> int``: the parameters of ``ManyToMany``, counted by hand.

    Embedding V x H, then torch's RNN: W_ih (H, H), W_hh (H, H) and two biases b_ih, b_hh (H each), then the
    read-out W_hy (C, H) and b_y (C): V H + 2 H^2 + 2 H + C H + C, whatever the sequence length.
    """
    name = "check_param_count"
    for vocab, n_classes, hidden in [(4, 5, 32), (10, 3, 7), (2, 2, 1), (65, 65, 100)]:
        ok, got = _call(name, fn, vocab, n_classes, hidden)
        if not ok:
            return False
        want = _torch_count(vocab, n_classes, hidden)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            print(f"{name}: return an int, got {type(got).__name__} {got!r}.")
            return False
        if int(got) == want:
            continue
        V, C, H = vocab, n_classes, hidden
        print(f"{name}: for vocab={V}, n_classes={C}, hidden={H} you counted {int(got):,}, the model has {want:,}.")
        hints = {want - H: "torch's RNN has two bias vectors, b_ih and b_hh, of H each: you counted one",
                 want - 2 * H: "you left out the RNN's biases (b_ih and b_hh, H each)",
                 want - C: "you left out the read-out's bias b_y (C numbers)",
                 want - V * H + V: "the embedding is a table of V rows of H numbers (V x H), not V numbers",
                 want - V * H: "you left out the embedding (V x H): it plays the role of W_xh for one-hot inputs",
                 want - H * H: "there are two H x H matrices in the RNN: W_ih (input to hidden, the input is the "
                               "H-dimensional embedding) and W_hh",
                 want - C * H - C: "you left out the read-out layer W_hy, b_y (C x H + C)"}
        if int(got) in hints:
            print(f"  hint: {hints[int(got)]}.")
        elif int(got) > want and int(got) % want == 0:
            print("  hint: a multiple of the right count: the weights are shared across time steps, so the count "
                  "does not depend on the sequence length.")
        return False
    print(f"{name}: correct.")
    return True


def _many_to_one_norms(x, h0, Wx, Wh, b, dh_last):
    from rnnbook.numpy_nn import rnn_backward, rnn_forward

    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = np.zeros_like(h)
    dh[:, -1] = dh_last
    return np.linalg.norm(rnn_backward(dh, cache)[0], axis=(0, 2)), h, cache


def check_many_to_one_grad(fn: Callable) -> bool:
    """Check ``fn(x (N, T, D), h0, Wx, Wh, b, dh_last (N, H)) -> (T,)``: the norm of dL/dx_t for every step t when
    the loss sees only the last state h_T, with dL/dh_T = dh_last (a many-to-one graph)."""
    name = "check_many_to_one_grad"
    from rnnbook.numpy_nn import rnn_backward

    rng = np.random.default_rng(4)
    N, T, D, H = 2, 6, 3, 4
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)) * 0.6, rng.standard_normal(H)
    dh_last = rng.standard_normal((N, H))
    ok, got = _call(name, fn, x, h0, Wx, Wh, b, dh_last)
    if not ok:
        return False
    want, h, cache = _many_to_one_norms(x, h0, Wx, Wh, b, dh_last)
    every = np.linalg.norm(rnn_backward(np.broadcast_to(dh_last[:, None], h.shape).copy(), cache)[0], axis=(0, 2))
    first = np.zeros_like(h)
    first[:, 0] = dh_last
    hints = {"the norms for a many-to-many graph: dh_last was given to every step, only the last state should "
             "get it": every,
             "the norms in reverse order: entry t is for the input x_t, t = 0 first": want[::-1],
             "the norms with dh_last put on the first state h_1, not the last": np.linalg.norm(
                 rnn_backward(first, cache)[0], axis=(0, 2))}
    if _compare(name, "the norms of dL/dx_t", got, want, hints):
        print(f"{name}: correct.")
        return True
    return False
