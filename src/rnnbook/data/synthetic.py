"""Synthetic tasks with long-range dependencies, the classic tests of whether a cell can remember.

Every function takes a ``numpy.random.Generator``, so a seed fixes the data, and a ``lag``: how many steps the
network must carry the information. Each says what a model that learned nothing scores (the trivial baseline).
"""

from __future__ import annotations

import numpy as np


def _check(n: int, **sizes: int) -> None:
    bad = {k: v for k, v in sizes.items() if v < 1}
    if n < 1 or bad:
        raise ValueError(f"need n >= 1 examples and positive sizes, got n={n}, "
                         + ", ".join(f"{k}={v}" for k, v in sizes.items()))


def adding_problem(rng: np.random.Generator, n: int, T: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Hochreiter & Schmidhuber's adding problem: sum the two marked numbers of a sequence.

    x (n, T, 2) float: channel 0 holds numbers uniform in [0, 1], channel 1 marks two of them with a 1, one in
    the first half of the sequence and one in the second; y (n,) = the sum of the two marked numbers.
    A model that always answers 1 has mean squared error Var(u1 + u2) = 1/6 (``ADDING_BASELINE_MSE``).
    """
    if T < 2:
        raise ValueError(f"adding_problem: need T >= 2 steps (one mark in each half), got T={T}")
    _check(n, T=T)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first, second = rng.integers(0, half, size=n), rng.integers(half, T, size=n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    return x, x[rows, first, 0] + x[rows, second, 0]


ADDING_BASELINE_MSE = 1.0 / 6.0


def copy_task(rng: np.random.Generator, n: int, length: int = 5, lag: int = 20, vocab: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The copy task: read ``length`` symbols, wait ``lag`` steps, then write the symbols back in order.

    Symbols are 1..vocab; 0 is the blank and vocab + 1 the 'go' marker, the last input of the wait.
    x (n, length + lag + length) int: the symbols, lag - 1 blanks, go, then blanks while the answer is written;
    y (same shape) int: blank everywhere except the last ``length`` steps, which hold the symbols.
    A model that writes blanks and then guesses is right 1 / vocab of the time on the answer steps.
    """
    _check(n, length=length, lag=lag, vocab=vocab)
    symbols = rng.integers(1, vocab + 1, size=(n, length))
    x = np.zeros((n, 2 * length + lag), dtype=np.int64)
    x[:, :length] = symbols
    x[:, length + lag - 1] = vocab + 1
    y = np.zeros_like(x)
    y[:, length + lag:] = symbols
    return x, y


def delayed_recall(rng: np.random.Generator, n: int, lag: int = 30, vocab: int = 4, distractors: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-one recall: the first symbol is the answer, then ``lag`` distracting symbols follow.

    x (n, lag + 1) int: x[:, 0] in 0..vocab-1 (the symbol to remember), x[:, 1:] in vocab..vocab+distractors-1;
    y (n,) int = x[:, 0]. A model that learned nothing is right 1 / vocab of the time.
    """
    _check(n, lag=lag, vocab=vocab, distractors=distractors)
    x = np.empty((n, lag + 1), dtype=np.int64)
    x[:, 0] = rng.integers(0, vocab, size=n)
    x[:, 1:] = rng.integers(vocab, vocab + distractors, size=(n, lag))
    return x, x[:, 0].copy()
