"""The vanilla (Elman) RNN layer in numpy, in CS231n's form, so students' code and checks carry over.

One step of the recurrence h_t = f_W(h_{t-1}, x_t):

    h_t = tanh(x_t Wx + h_{t-1} Wh + b)

with row-vector batches: x_t (N, D), h_{t-1} (N, H), Wx (D, H), Wh (H, H), b (H,).
The same Wx, Wh, b are used at every time step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Cache = Any


def _as_array(where: str, name: str, a: Any) -> np.ndarray:
    """``a`` as a float array: lists become arrays, integers become float64 (the recurrence is real-valued: an
    integer ``h`` would truncate tanh to 0); torch tensors, booleans, complex numbers and objects are refused."""
    if type(a).__module__.split(".")[0] == "torch":
        raise TypeError(f"{where}: {name} must be a numpy array, got a torch tensor; pass {name}.detach().cpu().numpy()")
    arr = np.asarray(a)
    if arr.dtype.kind in "iu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{where}: {name} must hold real numbers (a float array), got dtype {arr.dtype}; "
                        f"convert it with np.asarray({name}, dtype=float)")
    return arr


def _check_shapes(where: str, **arrays: tuple[np.ndarray, tuple[str | int, ...]]) -> list[np.ndarray]:
    """Check named arrays against symbolic shapes, e.g. x=(x, ("N", "D")); symbols must agree.

    Returns the arrays in the order given, as float arrays (see ``_as_array``; float arrays are returned as is).
    """
    sizes: dict[str, int] = {}
    out = []
    for name, (arr, spec) in arrays.items():
        arr = _as_array(where, name, arr)
        out.append(arr)
        shape = arr.shape
        if len(shape) != len(spec):
            raise ValueError(f"{where}: {name} must have shape ({', '.join(map(str, spec))}), got {shape}")
        for dim, sym in zip(shape, spec):
            if isinstance(sym, int):
                ok = dim == sym
            else:
                ok = sizes.setdefault(sym, dim) == dim
            if not ok:
                want = ", ".join(f"{s}={sizes.get(s, s)}" if isinstance(s, str) else str(s) for s in spec)
                raise ValueError(f"{where}: {name} has shape {shape}, expected ({want}) to match the other inputs")
    for name, arr in zip(arrays, out):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}: {name} contains NaN or inf")
    return out


def _check_upstream(where: str, name: str, d: Any, shape: tuple[int, ...]) -> np.ndarray:
    """An upstream gradient: a finite float array of ``shape`` (integers are computed in float64)."""
    d = _as_array(where, name, d)
    if d.shape != shape:
        raise ValueError(f"{where}: {name} must have shape {shape}, got {d.shape}")
    return d


def rnn_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """One step: next_h = tanh(x @ Wx + prev_h @ Wh + b).

    x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)  ->  next_h (N, H), cache for the backward pass.
    """
    x, prev_h, Wx, Wh, b = _check_shapes("rnn_step_forward", x=(x, ("N", "D")), prev_h=(prev_h, ("N", "H")),
                                         Wx=(Wx, ("D", "H")), Wh=(Wh, ("H", "H")), b=(b, ("H",)))
    return _step_forward(x, prev_h, Wx, Wh, b)


def _step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Backward of one step. With a = x Wx + prev_h Wh + b and next_h = tanh(a):

        da = dnext_h * (1 - next_h**2)
        dx = da Wx^T,  dprev_h = da Wh^T,  dWx = x^T da,  dWh = prev_h^T da,  db = sum_n da

    dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h = _check_upstream("rnn_step_backward", "dnext_h", dnext_h, next_h.shape)
    da = dnext_h * (1.0 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Run the recurrence over a whole sequence, the same weights at every step.

    x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)  ->  h (N, T, H) (h[:, t] is h_t), cache.
    """
    x, h0, Wx, Wh, b = _check_shapes("rnn_forward", x=(x, ("N", "T", "D")), h0=(h0, ("N", "H")),
                                     Wx=(Wx, ("D", "H")), Wh=(Wh, ("H", "H")), b=(b, ("H",)))
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    caches, prev_h = [], h0
    for t in range(T):
        prev_h, step_cache = _step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(step_cache)
    return h, caches


def rnn_backward(dh: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time over the whole sequence.

    dh (N, T, H) is the upstream gradient on every h_t. The gradient reaching h_t is dh[:, t] plus what
    flows back from h_{t+1}; the weight gradients are summed over time because the weights are shared.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    caches = cache
    x0, _, Wx, Wh, h_last = caches[0]
    N, H = h_last.shape
    T, D = len(caches), x0.shape[1]
    dh = _check_upstream("rnn_backward", "dh", dh, (N, T, H))
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=Wx.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def multilayer_rnn_forward(x: np.ndarray, h0: np.ndarray, W: list[np.ndarray]) -> np.ndarray:
    """The lecture's multilayer RNN: h^l_t = tanh(W^l [h^{l-1}_t ; h^l_{t-1}]), with h^0_t = x_t.

    Column-vector form as on the slide, no biases. x (N, T, n), h0 (L, N, n), W: L matrices of shape (n, 2n)
    -> the top layer's states, shape (N, T, n). Layer l reads the whole sequence of layer l - 1.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"multilayer_rnn_forward: x must have shape (N, T, n), got {x.shape}")
    N, T, n = x.shape
    if np.shape(h0) != (len(W), N, n):
        raise ValueError(f"multilayer_rnn_forward: h0 must have shape {(len(W), N, n)}, got {np.shape(h0)}")
    for l, Wl in enumerate(W):
        if np.shape(Wl) != (n, 2 * n):
            raise ValueError(f"multilayer_rnn_forward: W[{l}] must have shape {(n, 2 * n)}, got {np.shape(Wl)}")
    below = x
    for l, Wl in enumerate(W):
        h_t, out = h0[l], np.empty_like(below)
        for t in range(T):
            h_t = np.tanh(np.concatenate([below[:, t], h_t], axis=1) @ Wl.T)
            out[:, t] = h_t
        below = out
    return below
