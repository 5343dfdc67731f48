"""The LSTM layer in numpy, in CS231n's form, so students' code and checks carry over.

One step, with the four gate blocks in the lecture's order i, f, o, g:

    a = x_t Wx + h_{t-1} Wh + b                       a (N, 4H) = [a_i | a_f | a_o | a_g]
    i = sigmoid(a_i)   f = sigmoid(a_f)   o = sigmoid(a_o)   g = tanh(a_g)
    c_t = f * c_{t-1} + i * g                         (the additive path: "uninterrupted gradient flow")
    h_t = o * tanh(c_t)

with row-vector batches: x_t (N, D), h_{t-1} and c_{t-1} (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
The same Wx, Wh, b are used at every time step; ``lstm_forward`` starts from c_0 = 0.
"""

from __future__ import annotations

import numpy as np

from rnnbook.numpy_nn.rnn import Cache, _check_shapes, _check_upstream


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    out = np.empty_like(x, dtype=np.result_type(x, np.float32))
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def _check_weights(where: str, H4: int) -> int:
    if H4 % 4:
        raise ValueError(f"{where}: b must have shape (4H,) (and Wx, Wh 4H columns: blocks i, f, o, g), got "
                         f"{H4} entries (not divisible by 4)")
    return H4 // 4


def lstm_step_forward(x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                      b: np.ndarray) -> tuple[np.ndarray, np.ndarray, Cache]:
    """One LSTM step: c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)  (gates i, f, o, g from x Wx + h Wh + b).

    x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)
    ->  next_h (N, H), next_c (N, H), cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh(c_t)) for the backward.
    """
    H = _check_weights("lstm_step_forward", np.shape(b)[-1] if np.ndim(b) else 0)
    x, prev_h, prev_c, Wx, Wh, b = _check_shapes(
        "lstm_step_forward", x=(x, ("N", "D")), prev_h=(prev_h, ("N", H)), prev_c=(prev_c, ("N", H)),
        Wx=(Wx, ("D", 4 * H)), Wh=(Wh, (H, 4 * H)), b=(b, (4 * H,)))
    return _step_forward(x, prev_h, prev_c, Wx, Wh, b)


def _step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Backward of one LSTM step.

        dc  = dnext_c + dnext_h * o * (1 - tanh(c_t)^2)         (both paths into c_t)
        di  = dc * g,  df = dc * c_{t-1},  do = dnext_h * tanh(c_t),  dg = dc * i
        da  = [di * i(1-i) | df * f(1-f) | do * o(1-o) | dg * (1-g^2)]
        dx = da Wx^T,  dprev_h = da Wh^T,  dprev_c = dc * f,  dWx = x^T da,  dWh = prev_h^T da,  db = sum_n da

    dnext_h, dnext_c (N, H) -> dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dnext_h = _check_upstream("lstm_step_backward", "dnext_h", dnext_h, tanh_c.shape)
    dnext_c = _check_upstream("lstm_step_backward", "dnext_c", dnext_c, tanh_c.shape)
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c**2)
    da = np.concatenate([dc * g * i * (1.0 - i), dc * prev_c * f * (1.0 - f),
                         dnext_h * tanh_c * o * (1.0 - o), dc * i * (1.0 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Run the LSTM over a whole sequence from h_0 = h0 and c_0 = 0; only the hidden states are returned.

    x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)  ->  h (N, T, H) (h[:, t] is h_t), cache.
    """
    H = _check_weights("lstm_forward", np.shape(b)[-1] if np.ndim(b) else 0)
    x, h0, Wx, Wh, b = _check_shapes("lstm_forward", x=(x, ("N", "T", "D")), h0=(h0, ("N", H)),
                                     Wx=(Wx, ("D", 4 * H)), Wh=(Wh, (H, 4 * H)), b=(b, (4 * H,)))
    N, T, _ = x.shape
    h = np.empty((N, T, H), dtype=np.result_type(x, h0, Wx))
    caches, prev_h, prev_c = [], h0, np.zeros_like(h0)
    for t in range(T):
        prev_h, prev_c, step_cache = _step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(step_cache)
    return h, caches


def lstm_backward(dh: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time over the whole sequence.

    dh (N, T, H) is the upstream gradient on every h_t (none reaches the cell states from outside). The gradient
    into step t is dh[:, t] plus dprev_h from step t + 1, and dprev_c from step t + 1 into c_t; the weight
    gradients are summed over time. Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    caches = cache
    x0, prev_h0, _, Wx, Wh = caches[0][:5]
    N, H = prev_h0.shape
    T, D = len(caches), x0.shape[1]
    dh = _check_upstream("lstm_backward", "dh", dh, (N, T, H))
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=Wx.dtype)
    dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dprev_c, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db
