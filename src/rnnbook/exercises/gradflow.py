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


def check_jacobian_product(fn: Callable) -> bool:
    """Check ``fn(Whh, h) -> dh_T/dh_0`` (H, H) for a tanh RNN with states h (T + 1, H).

    The answer is J_T J_{T-1} ... J_1 with J_t = diag(1 - h_t^2) W_hh.
    """
    name = "check_jacobian_product"
    rng = np.random.default_rng(7)
    H, D, T = 5, 3, 6
    Whh = recurrent_matrix(H, 1.2, "gaussian", seed=7)
    h = rnn_states(Whh, rng.standard_normal((H, D)), rng.standard_normal((T, D)), rng.standard_normal(H) * 0.5)
    ok, got = _call(name, fn, Whh.copy(), h.copy())
    if not ok:
        return False
    want = jacobian_products(Whh, h, "tanh")[-1]
    D_ = 1 - h[1:] ** 2
    reversed_order = np.eye(H)
    for t in range(T):
        reversed_order = reversed_order @ (D_[t][:, None] * Whh)
    hints = {
        "W_hh^T (the product without the tanh' factors)": np.linalg.matrix_power(Whh, T),
        "the product in the wrong order, J_1 J_2 ... J_T": reversed_order,
        "the transpose of the answer": want.T,
        "the product with diag(1 - h_{t-1}^2), the previous state's derivative": _shifted(Whh, h),
    }
    if _compare(name, "dh_T/dh_0", got, want, hints):
        print(f"{name}: correct.")
        return True
    return False


def _shifted(Whh: np.ndarray, h: np.ndarray) -> np.ndarray:
    P = np.eye(Whh.shape[0])
    for t in range(1, h.shape[0]):
        P = ((1 - h[t - 1] ** 2)[:, None] * Whh) @ P
    return P


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
