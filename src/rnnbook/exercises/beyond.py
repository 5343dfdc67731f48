"""Checks for chapter 10's exercises (seq2seq and attention; the Transformer teaser). Each prints what is right or
what is wrong and where, and returns a bool; a template that still raises ``NotImplementedError`` gets a reminder."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rnnbook.data.translation import number_to_words
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import compare as _compare
from rnnbook.exercises.common import to_array
from rnnbook.models.seq2seq import attend
from rnnbook.models.transformer import causal_attention, causal_mask

WORD_CASES = (0, 7, 13, 20, 21, 40, 99, 100, 101, 110, 115, 300, 999, 1000, 1001, 1010, 2019, 20020, 100000, 110011,
              999999)


def check_number_words(fn: Callable[[int], str]) -> bool:
    """Check ``fn(n) -> str`` (English words of 0 <= n < 10**6, e.g. "four thousand twenty one") on tricky numbers."""
    name = "check_number_words"
    for n in WORD_CASES:
        ok, got = _call(name, fn, n)
        if not ok:
            return False
        want = " ".join(number_to_words(n))
        if not isinstance(got, str) or " ".join(got.split()) != want:
            print(f"{name}: for {n} you wrote {got!r}, expected {want!r}.")
            return False
    print(f"{name}: correct on all {len(WORD_CASES)} test numbers.")
    return True


def _attention_inputs(seed: int = 0, N: int = 3, S: int = 5, H: int = 4):
    gen = torch.Generator().manual_seed(seed)
    scores, values = torch.randn(N, S, generator=gen), torch.randn(N, S, H, generator=gen)
    mask = torch.arange(S)[None, :] < torch.tensor([5, 3, 1])[:, None]
    return scores, values, mask


def check_attend(fn: Callable) -> bool:
    """Check ``fn(scores (N, S), values (N, S, H), mask (N, S) bool) -> (context (N, H), weights (N, S))``."""
    name = "check_attend"
    scores, values, mask = _attention_inputs()
    ok, out = _call(name, fn, scores, values, mask)
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "the pair (context, weights)"):
        return False
    context, weights = out
    want_c, want_w = (o.numpy() for o in attend(scores, values, mask))
    no_mask = torch.softmax(scores, -1)
    hints = {"the softmax without the mask (padding got weight)": no_mask.numpy(),
             "the scores themselves (no softmax)": scores.masked_fill(~mask, 0).numpy()}
    if not _compare(name, "weights", weights, want_w, hints):
        return False
    if not _compare(name, "context", context, want_c,
                    {"the context with unmasked weights": torch.einsum("ns,nsh->nh", no_mask, values).numpy()}):
        return False
    print(f"{name}: correct.")
    return True


def check_causal_attention(fn: Callable) -> bool:
    """Check ``fn(q, k, v) -> output`` (q, k, v: (N, T, d_k)) against softmax(q k^T / sqrt(d_k) + causal mask) v."""
    name = "check_causal_attention"
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 6, 4, generator=gen) for _ in range(3))
    ok, got = _call(name, fn, q, k, v)
    if not ok:
        return False
    got = got[0] if isinstance(got, tuple) else got
    want = causal_attention(q, k, v)[0].numpy()
    scores = q @ k.transpose(-2, -1)
    no_mask = (torch.softmax(scores / 2.0, -1) @ v).numpy()
    hints = {"attention without the causal mask (it looks at the future)": no_mask,
             "attention without the 1/sqrt(d_k) scaling": causal_attention(q * 2.0, k, v)[0].numpy(),
             "the mask turned the wrong way (upper triangle)":
                 (torch.softmax((scores / 2.0).masked_fill(~causal_mask(6).T, float("-inf")), -1) @ v).numpy()}
    if _compare(name, "the output", got, want, hints):
        print(f"{name}: correct.")
        return True
    return False


def check_causal_mask(fn: Callable[[int], torch.Tensor]) -> bool:
    """Check ``fn(T) -> (T, T) bool``, True where position t (row) may look at position s (column), i.e. s <= t."""
    name = "check_causal_mask"
    for T in (1, 4, 7):
        ok, got = _call(name, fn, T)
        if not ok:
            return False
        got = to_array(name, f"the mask for T={T}", got)
        if got is None:
            return False
        want = causal_mask(T).numpy()
        if got.shape != want.shape:
            print(f"{name}: for T={T} the mask has shape {got.shape}, expected {want.shape}.")
            return False
        if got.dtype != np.bool_:
            print(f"{name}: return booleans (True = may look), got dtype {got.dtype}.")
            return False
        if np.array_equal(got, want):
            continue
        if np.array_equal(got, want.T):
            print(f"{name}: your mask is transposed: row t must allow the columns s <= t (the past), not s >= t.")
            return False
        if np.array_equal(got, np.tril(np.ones((T, T), bool), -1)):
            print(f"{name}: position t must also look at itself (the diagonal is True).")
            return False
        bad = np.argwhere(got != want)[0]
        print(f"{name}: for T={T}, entry (t={bad[0]}, s={bad[1]}) is {got[tuple(bad)]}, expected {want[tuple(bad)]}.")
        return False
    print(f"{name}: correct.")
    return True
