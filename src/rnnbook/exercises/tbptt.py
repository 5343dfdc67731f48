"""Checks for the truncated-BPTT chapter's exercises. Each prints what is right or what is wrong, and returns a bool."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rnnbook.exercises.common import as_mask
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.tbptt import gradient_mask


def _detached_like(name: str, what: str, got, want: torch.Tensor) -> bool:
    if not isinstance(got, torch.Tensor):
        print(f"{name}: {what} should be a tensor, got {type(got).__name__}.")
        return False
    if got.shape != want.shape:
        print(f"{name}: {what} has shape {tuple(got.shape)}, expected {tuple(want.shape)}.")
        return False
    if got.requires_grad or got.grad_fn is not None:
        print(f"{name}: {what} is still attached to the graph (it requires grad), so the next chunk would "
              "backpropagate into the previous one. Cut it with .detach().")
        return False
    if not torch.equal(got, want.detach()):
        if torch.count_nonzero(got) == 0:
            print(f"{name}: {what} is all zeros: that resets the state (no context) instead of truncating it. "
                  "Keep the values, cut only the gradient.")
        else:
            print(f"{name}: {what} has different values from the state you were given; keep the values.")
        return False
    return True


def check_detach_state(fn: Callable) -> bool:
    """Check ``fn(state) -> state``: same values, no gradient history; tensors, (h, c) tuples and None."""
    name = "check_detach_state"
    w = torch.randn(2, 3, requires_grad=True)
    h, c = torch.tanh(w * 2.0), torch.sigmoid(w)
    ok, out = _call(name, fn, h)
    if not ok or not _detached_like(name, "the returned state", out, h):
        return False
    if h.grad_fn is None:
        print(f"{name}: you detached the input in place (detach_()); the previous chunk's graph still needs it. "
              "Return a detached copy instead.")
        return False
    ok, out = _call(name, fn, (h, c))
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "a tuple of two detached tensors for an LSTM state (h, c)"):
        return False
    pairs = enumerate(zip(out, (h, c)))
    if not all(_detached_like(name, f"element {i} of the (h, c) state", o, s) for i, (o, s) in pairs):
        return False
    ok, out = _call(name, fn, None)
    if not ok:
        return False
    if out is not None:
        print(f"{name}: a state of None (zeros at the start of a pass) should stay None, got {type(out).__name__}.")
        return False
    print(f"{name}: correct.")
    return True


def check_tbptt_mask(fn: Callable) -> bool:
    """Check ``fn(T, k) -> bool array (T, T)``: M[t, s] is True when the loss at step t sends gradient to input s."""
    name = "check_tbptt_mask"
    for T, k in [(10, 4), (8, 8), (6, 1), (9, 3), (5, 7)]:
        ok, got = _call(name, fn, T, k)
        if not ok:
            return False
        want = gradient_mask(T, k)
        got = as_mask(name, got, want.shape, f"the mask for T={T}, k={k}")
        if got is None:
            return False
        if np.array_equal(got.astype(bool), want):
            continue
        t, s = (int(i) for i in np.argwhere(got.astype(bool) != want)[0])
        print(f"{name}: for T={T}, k={k}, entry [t={t}, s={s}] is {bool(got[t, s])}, expected {bool(want[t, s])}.")
        tt, ss = np.indices((T, T))
        if np.array_equal(got.astype(bool), ss <= tt):
            print("  hint: that is full BPTT (every earlier input); truncation stops the gradient at chunk boundaries.")
        elif np.array_equal(got.astype(bool), (ss <= tt) & (tt - ss < k)):
            print("  hint: that is a sliding window of k steps; the chunks are fixed: steps ck .. ck + k - 1.")
        elif np.array_equal(got.astype(bool).T, want):
            print("  hint: rows are the loss step t, columns the input step s; your mask is transposed.")
        return False
    print(f"{name}: correct.")
    return True
