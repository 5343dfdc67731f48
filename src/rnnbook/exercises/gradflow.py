"""Checks for the gradient-flow chapter's exercises. Each prints what is right or what is wrong and where, and
returns a bool; a template that still raises ``NotImplementedError`` gets a reminder, not a crash.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import compare as _compare
from rnnbook.gradflow import jacobian_products, recurrent_matrix, rnn_states


def check_set_forget_bias(fn: Callable) -> bool:
    """Check ``fn(lstm, value)``: afterwards every layer's forget gate has total bias ``value``, nothing else changed.

    PyTorch's LSTM adds two biases, ``bias_ih_l{k} + bias_hh_l{k}``, and orders the gates (i, f, g, o).
    """
    name = "check_set_forget_bias"
    torch.manual_seed(5)
    H, value = 4, 1.0
    lstm = nn.LSTM(3, H, num_layers=2)
    before = {k: v.detach().clone() for k, v in lstm.state_dict().items()}
    ok, _ = _call(name, fn, lstm, value)
    if not ok:
        return False
    after = lstm.state_dict()
    for k, v in after.items():
        if k.startswith("weight") and not torch.equal(v, before[k]):
            print(f"{name}: {k} changed; only the biases should change.")
            return False
    for layer in range(2):
        total = (after[f"bias_ih_l{layer}"] + after[f"bias_hh_l{layer}"]).numpy()
        old = (before[f"bias_ih_l{layer}"] + before[f"bias_hh_l{layer}"]).numpy()
        f_total = total[H:2 * H]
        hints = {
            "value + the old bias_hh (set bias_ih only, but PyTorch adds bias_hh too)":
                value + before[f"bias_hh_l{layer}"].numpy()[H:2 * H],
            "2 * value (both biases set to value; their sum is what counts)": np.full(H, 2 * value),
            "the old bias (the forget gate is rows H:2H, the order is i, f, g, o)": old[H:2 * H],
        }
        if not _compare(name, f"the forget gate's total bias of layer {layer}", f_total, np.full(H, value), hints):
            return False
        others = np.r_[0:H, 2 * H:4 * H]
        if not np.allclose(total[others], old[others], atol=1e-6):
            changed = "i" if not np.allclose(total[:H], old[:H]) else "g or o"
            print(f"{name}: the total bias of gate {changed} in layer {layer} changed; only rows H:2H (f) should.")
            return False
    print(f"{name}: correct.")
    return True


def _backprop_h0(Whh: np.ndarray, h: np.ndarray, g: np.ndarray, transpose: bool = True, shift: int = 0,
                 forward_order: bool = False, derivative: bool = True) -> np.ndarray:
    """dL/dh_0 by the backward recursion g_{t-1} = W^T diag(1 - h_t^2) g_t, or one of its usual slips."""
    T = h.shape[0] - 1
    W = Whh.T if transpose else Whh
    steps = range(1, T + 1) if forward_order else range(T, 0, -1)
    for t in steps:
        d = 1 - h[t - shift] ** 2 if derivative else np.ones_like(g)
        g = W @ (d * g)
    return g


def check_grad_h0(fn: Callable) -> bool:
    """Check ``fn(Whh, h, g_T) -> dL/dh_0`` (H,) for a tanh RNN with states h (T + 1, H) and g_T = dL/dh_T (H,).

    The answer is backpropagation, one vector per step: g_{t-1} = W_hh^T (diag(1 - h_t^2) g_t), t = T .. 1,
    equal to (J_T ... J_1)^T g_T without ever forming an (H, H) product.
    """
    name = "check_grad_h0"
    rng = np.random.default_rng(8)
    H, D, T = 6, 3, 7
    Whh = recurrent_matrix(H, 1.3, "gaussian", seed=8)
    h = rnn_states(Whh, rng.standard_normal((H, D)), rng.standard_normal((T, D)), rng.standard_normal(H) * 0.5)
    g_T = rng.standard_normal(H)
    ok, got = _call(name, fn, Whh.copy(), h.copy(), g_T.copy())
    if not ok:
        return False
    want = jacobian_products(Whh, h, "tanh")[-1].T @ g_T
    hints = {
        "the recursion with W_hh instead of W_hh^T (backprop multiplies by the transpose)":
            _backprop_h0(Whh, h, g_T, transpose=False),
        "the recursion with diag(1 - h_{t-1}^2), the derivative of the state one step too early":
            _backprop_h0(Whh, h, g_T, shift=1),
        "the steps taken in the forward order t = 1 .. T (start from the last step, t = T)":
            _backprop_h0(Whh, h, g_T, forward_order=True),
        "the recursion without the tanh' factors diag(1 - h_t^2)": _backprop_h0(Whh, h, g_T, derivative=False),
        "(J_T ... J_1) g_T, the forward-mode product; the gradient needs its transpose":
            jacobian_products(Whh, h, "tanh")[-1] @ g_T,
    }
    if _compare(name, "dL/dh_0", got, want, hints):
        print(f"{name}: correct.")
        return True
    return False
