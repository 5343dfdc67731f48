"""Checks for the LSTM / GRU chapter's exercises. Each prints what is right or what is wrong and where, and returns
a bool; an answer that still raises ``NotImplementedError`` (the template) gets a reminder, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import as_number as _as_number
from rnnbook.exercises.common import compare as _compare
from rnnbook.numpy_nn.lstm import lstm_step_backward, lstm_step_forward


def _lstm_inputs(seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            rng.standard_normal((D, 4 * H)) * 0.5, rng.standard_normal((H, 4 * H)) * 0.5, rng.standard_normal(4 * H))


def check_lstm_step_backward(fn: Callable) -> bool:
    """Check ``fn(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)`` on the cache of
    ``rnnbook.numpy_nn.lstm.lstm_step_forward``: (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)."""
    name = "check_lstm_step_backward"
    args = _lstm_inputs(1)
    next_h, next_c, cache = lstm_step_forward(*args)
    rng = np.random.default_rng(2)
    dnext_h, dnext_c = rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)
    ok, out = _call(name, fn, dnext_h, dnext_c, cache)
    if not ok:
        return False
    if not _returns_tuple(name, out, 6, "the tuple (dx, dprev_h, dprev_c, dWx, dWh, db)"):
        return False
    want = lstm_step_backward(dnext_h, dnext_c, cache)
    # the usual slip: forgetting that dnext_h reaches c_t through h_t = o * tanh(c_t)
    only_c = lstm_step_backward(np.zeros_like(dnext_h), dnext_c, cache)
    hints = {
        "dprev_c": {"dnext_c * f (the path through h_t = o * tanh(c_t) is missing)": only_c[2],
                    "dnext_c (the forget gate's factor f is missing)": dnext_c},
    }
    names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
    results = [_compare(name, n, g, w, hints.get(n)) for n, g, w in zip(names, out, want)]
    if all(results):
        print(f"{name}: correct.")
    return all(results)


def _gru_torch(x, prev_h, Wx, Wh, b, reset_after: bool = False, cut: str = ""):
    """The lecture's GRU step in torch (float64), for autograd; ``cut`` detaches h_{t-1} on one path:
    "direct" (z * h_{t-1}), "r" (inside the reset gate), "z" (inside the update gate), "candidate" (inside h~)."""
    import torch

    H = prev_h.shape[1]

    def on(path):
        return prev_h.detach() if cut == path else prev_h

    xr, xz, xh = (x @ Wx[:, k * H:(k + 1) * H] + b[k * H:(k + 1) * H] for k in range(3))
    r = torch.sigmoid(xr + on("r") @ Wh[:, :H])
    z = torch.sigmoid(xz + on("z") @ Wh[:, H:2 * H])
    hc = on("candidate")
    h_tilde = torch.tanh(xh + (r * (hc @ Wh[:, 2 * H:]) if reset_after else (r * hc) @ Wh[:, 2 * H:]))
    return z * on("direct") + (1 - z) * h_tilde


def _gru_grads(dnext_h, x, prev_h, Wx, Wh, b, **options) -> tuple[np.ndarray, ...]:
    import torch

    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, prev_h, Wx, Wh, b)]
    out = _gru_torch(*ts, **options)
    grads = torch.autograd.grad(out, ts, torch.as_tensor(dnext_h, dtype=torch.float64), allow_unused=True)
    return tuple(np.zeros(t.shape) if g is None else g.numpy() for g, t in zip(grads, ts))


def check_gru_step_backward(fn: Callable) -> bool:
    """Check ``fn(dnext_h, x, prev_h, Wx, Wh, b) -> (dx, dprev_h, dWx, dWh, db)`` for the lecture's GRU step
    (blocks r, z, h; r acts on h_{t-1} before W_hh; h_t = z * h_{t-1} + (1 - z) * h~), against autograd.

    Shapes: x (N, D), prev_h (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,); each gradient has its array's shape.
    h_{t-1} reaches h_t along four paths (directly, and through r, z and h~): dprev_h is their sum.
    """
    name = "check_gru_step_backward"
    rng = np.random.default_rng(6)
    N, D, H = 3, 4, 5
    args = (rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((D, 3 * H)) * 0.5,
            rng.standard_normal((H, 3 * H)) * 0.5, rng.standard_normal(3 * H))
    dnext_h = rng.standard_normal((N, H))
    ok, out = _call(name, fn, dnext_h, *args)
    if not ok:
        return False
    if not _returns_tuple(name, out, 5, "the tuple (dx, dprev_h, dWx, dWh, db)"):
        return False
    want = _gru_grads(dnext_h, *args)
    wrong = {
        "the gradient without the direct path z * h_{t-1} (add dnext_h * z)": _gru_grads(dnext_h, *args, cut="direct"),
        "the gradient without the path through the reset gate r": _gru_grads(dnext_h, *args, cut="r"),
        "the gradient without the path through the update gate z": _gru_grads(dnext_h, *args, cut="z"),
        "the gradient without the path through the candidate h~": _gru_grads(dnext_h, *args, cut="candidate"),
        "the gradient of torch's GRU, which applies r after the product: r * (h W_hh)":
            _gru_grads(dnext_h, *args, reset_after=True),
    }
    names = ("dx", "dprev_h", "dWx", "dWh", "db")
    results = [_compare(name, n, g, w, {k: v[j] for k, v in wrong.items()})
               for j, (n, g, w) in enumerate(zip(names, out, want))]
    if all(results):
        print(f"{name}: correct.")
    return all(results)


def _causal_best(p: np.ndarray, ties_rise: bool = False) -> float:
    above = 1 - np.cumsum(p) + (p if ties_rise else 0)  # P(X > a), or P(X >= a)
    return float(np.sum(p * np.maximum(above, 1 - above)))


def check_causal_best(fn: Callable) -> bool:
    """Check ``fn(p) -> accuracy``: the best accuracy a causal tagger can reach on ``next_rises`` when the symbols
    are drawn independently with probabilities p (vocab,), tag y_t = [x_{t+1} > x_t].

    At step t the tagger knows x_t = a, but not x_{t+1}; it answers "rises" when P(X > a) > 1/2, so the answer is
    sum_a p_a max(P(X > a), 1 - P(X > a)).
    """
    name = "check_causal_best"
    cases = [np.full(4, 0.25), np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.5, 0.1, 0.1, 0.1, 0.2]),
             np.array([0.7, 0.3])]
    for p in cases:
        ok, got = _call(name, fn, p.copy())
        if not ok:
            return False
        value = _as_number(name, got, "one accuracy (a float)")
        if value is None:
            return False
        want = _causal_best(p)
        if abs(value - want) < 1e-9:
            continue
        print(f"{name}: for p = {p.tolist()} you return {value:.4f}, expected {want:.4f}.")
        rise = float(sum(p[a] * p[a + 1:].sum() for a in range(len(p))))
        hints = {
            "the formula for uniform symbols (weigh each a by p_a and use P(X > a) from p)":
                _causal_best(np.full(len(p), 1 / len(p))),
            "the accuracy with ties counted as rises, P(X >= a) (the tag asks for x_{t+1} > x_t)":
                _causal_best(p, ties_rise=True),
            "the accuracy of always giving the most frequent tag, which ignores x_t": max(rise, 1 - rise),
            "chance, 0.5; a causal tagger knows x_t, which tells it something about the comparison": 0.5,
        }
        for hint, v in hints.items():
            if abs(value - v) < 1e-9:
                print(f"  hint: your answer equals {hint}.")
        return False
    print(f"{name}: correct.")
    return True
