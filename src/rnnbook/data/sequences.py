"""Synthetic sequence tasks, each small enough to train in seconds, one per computational graph.

Every function takes a ``numpy.random.Generator`` and returns integer arrays, so a seed fixes the data.
"""

from __future__ import annotations

import numpy as np


def _check(n: int, T: int) -> None:
    if n < 1 or T < 1:
        raise ValueError(f"need n >= 1 examples and T >= 1 steps, got n={n}, T={T}")


def majority(rng: np.random.Generator, n: int, T: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-one: x (n, T) bits; y (n,) = 1 when more than half of the bits are 1. Use an odd T."""
    _check(n, T)
    x = rng.integers(0, 2, size=(n, T))
    return x, (x.sum(axis=1) * 2 > T).astype(np.int64)


def delayed_echo(rng: np.random.Generator, n: int, T: int = 12, delay: int = 2, vocab: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-many: x (n, T) symbols; y[:, t] = x[:, t - delay], and ``vocab`` (a 'blank' class) for t < delay."""
    _check(n, T)
    x = rng.integers(0, vocab, size=(n, T))
    y = np.full_like(x, vocab)
    y[:, delay:] = x[:, : T - delay]
    return x, y


def counting(rng: np.random.Generator, n: int, T: int = 6, vocab: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """One-to-many: a start symbol k (n,); the sequence k, k+1, ..., k+T-1 (mod vocab), shape (n, T)."""
    _check(n, T)
    k = rng.integers(0, vocab, size=n)
    return k, (k[:, None] + np.arange(T)[None, :]) % vocab


def reversal(rng: np.random.Generator, n: int, T: int = 5, vocab: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Sequence to sequence: x (n, T) symbols; y = x reversed along time."""
    _check(n, T)
    x = rng.integers(0, vocab, size=(n, T))
    return x, x[:, ::-1].copy()


#: the target of a position that has no tag; ``torch.nn.functional.cross_entropy`` skips it by default
IGNORE_INDEX = -100


def next_rises(rng: np.random.Generator, n: int, T: int = 12, vocab: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-many tagging where the future matters: x (n, T) symbols in 0..vocab-1, uniform and independent;
    y[:, t] = 1 when x[:, t + 1] > x[:, t] (the next symbol is larger), else 0, for t < T - 1.

    The last step has no next symbol: y[:, T - 1] = ``IGNORE_INDEX`` (-100), which ``F.cross_entropy`` skips.
    A causal model at step t has seen only x_0..x_t; since x_{t+1} is independent of them, its best accuracy is
    (1/vocab) sum_a max(a + 1, vocab - 1 - a) / vocab (0.75 for vocab = 4); a bidirectional model can reach 1.
    """
    _check(n, T)
    if T < 2:
        raise ValueError(f"next_rises needs T >= 2 steps (a tag compares a symbol with the next), got T={T}")
    if vocab < 2:
        raise ValueError(f"next_rises needs vocab >= 2 symbols, got vocab={vocab}")
    x = rng.integers(0, vocab, size=(n, T))
    y = np.full_like(x, IGNORE_INDEX)
    y[:, :-1] = (x[:, 1:] > x[:, :-1]).astype(x.dtype)
    return x, y
