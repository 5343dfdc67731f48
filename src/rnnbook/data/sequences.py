"""Synthetic sequence tasks, small enough to train in seconds: one per computational graph, and the classic
tests of whether a cell can remember.

Every function takes a ``numpy.random.Generator``, so a seed fixes the data, and returns arrays (x, y). The
memory tasks say how many steps the network must carry the information (``delay``, ``lag``) and what a model
that learned nothing scores (the trivial baseline).

    majority          many-to-one     y = 1 when more than half of the bits are 1
    delayed_echo      many-to-many    y_t = x_{t-d}: an echo d steps late (on an endless stream: ``recall_chunks``)
    counting          one-to-many     k, k+1, ..., k+T-1
    reversal          seq2seq         x reversed
    adding_problem    many-to-one     the sum of the two marked numbers (Hochreiter & Schmidhuber 1997)
    delayed_recall    many-to-one     the first symbol, after ``lag`` distractors
    next_rises        many-to-many    y_t = 1 when x_{t+1} > x_t: a tag that needs the future (bidirectional RNNs)
    look_back_tokens  many-to-many    random tokens whose targets are x_{t-1} and x_{t-2} (``look_back_targets``)

Targets equal to ``IGNORE`` have no label and are not scored by the losses (``torch`` calls it ``ignore_index``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

#: the target of a step with no label (skipped by the loss; torch's default ``ignore_index``)
IGNORE = -100


def _check(n: int, **sizes: int) -> None:
    bad = {k: v for k, v in sizes.items() if v < 1}
    if n < 1 or bad:
        raise ValueError(f"need n >= 1 examples and positive sizes, got n={n}, "
                         + ", ".join(f"{k}={v}" for k, v in sizes.items()))


# --- one task per computational graph ----------------------------------------------------------------------------

def majority(rng: np.random.Generator, n: int, T: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-one: x (n, T) bits; y (n,) = 1 when more than half of the bits are 1. Use an odd T."""
    _check(n, T=T)
    x = rng.integers(0, 2, size=(n, T))
    return x, (x.sum(axis=1) * 2 > T).astype(np.int64)


def delayed_echo(rng: np.random.Generator, n: int, T: int = 12, delay: int | Sequence[int] = 2, vocab: int = 4,
                 fill: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-many: x (n, T) random symbols in 0..vocab-1; y[:, t] = x[:, t - delay].

    The first ``delay`` steps have no source: their target is ``fill``, by default ``vocab`` (a 'blank' class the
    model learns to predict), or ``IGNORE`` to leave them unscored. For a list of delays, y has shape
    (n, T, len(delays)), one target per delay. A model that learned nothing is right 1 / vocab of the time.
    """
    delays = [delay] if np.isscalar(delay) else list(delay)
    if n < 1 or T < 1 or vocab < 2 or not delays or min(delays) < 0:
        raise ValueError(f"need n >= 1, T >= 1, vocab >= 2 and delays >= 0, got n={n}, T={T}, vocab={vocab}, "
                         f"delay={delay}")
    x = rng.integers(0, vocab, size=(n, T), dtype=np.int64)
    y = np.full((n, T, len(delays)), vocab if fill is None else fill, dtype=np.int64)
    for j, d in enumerate(delays):
        y[:, d:, j] = x[:, : max(0, T - d)]
    return x, (y[..., 0] if np.isscalar(delay) else y)


def recall_chunks(rng: np.random.Generator, batch_size: int, length: int, delay: int | Sequence[int], seq_len: int,
                  vocab: int = 2) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Delayed echo on an endless stream, the limit of truncated backpropagation through time as a task.

    One pass over a fresh stream of ``batch_size`` rows of ``length`` symbols (``delayed_echo`` with
    ``fill=IGNORE``), cut into contiguous chunks of ``seq_len`` steps for TBPTT. The symbol the target at step t
    needs lies inside the same chunk only when d < k = seq_len: for d >= k every path from x_{t-d} to the loss at
    t crosses a detached state, so no gradient can teach the model to keep it.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    x, y = delayed_echo(rng, batch_size, length, delay, vocab, fill=IGNORE)
    for start in range(0, length, seq_len):
        yield x[:, start:start + seq_len], y[:, start:start + seq_len]


def counting(rng: np.random.Generator, n: int, T: int = 6, vocab: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """One-to-many: a start symbol k (n,); the sequence k, k+1, ..., k+T-1 (mod vocab), shape (n, T)."""
    _check(n, T=T)
    k = rng.integers(0, vocab, size=n)
    return k, (k[:, None] + np.arange(T)[None, :]) % vocab


def reversal(rng: np.random.Generator, n: int, T: int = 5, vocab: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Sequence to sequence: x (n, T) symbols; y = x reversed along time."""
    _check(n, T=T)
    x = rng.integers(0, vocab, size=(n, T))
    return x, x[:, ::-1].copy()


# --- long-range dependencies --------------------------------------------------------------------------------------

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


def delayed_recall(rng: np.random.Generator, n: int, lag: int = 30, vocab: int = 4, distractors: int = 4
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-one recall: the first symbol is the answer, then ``lag`` distracting symbols follow.

    x (n, lag + 1) int: x[:, 0] in 0..vocab-1 (the symbol to remember), x[:, 1:] in vocab..vocab+distractors-1;
    y (n,) int = x[:, 0]. A model that learned nothing is right 1 / vocab of the time.
    """
    _check(n, lag=lag, vocab=vocab, distractors=distractors)
    x = np.empty((n, lag + 1), dtype=np.int64)
    x[:, 0] = rng.integers(0, vocab, size=n)
    x[:, 1:] = rng.integers(vocab, vocab + distractors, size=(n, lag))
    return x, x[:, 0].copy()


def next_rises(rng: np.random.Generator, n: int, T: int = 12, vocab: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Many-to-many tagging where the future matters: x (n, T) symbols in 0..vocab-1, uniform and independent;
    y[:, t] = 1 when x[:, t + 1] > x[:, t] (the next symbol is larger), else 0, for t < T - 1.

    The last step has no next symbol: y[:, T - 1] = ``IGNORE`` (-100), which ``F.cross_entropy`` skips.
    A causal model at step t has seen only x_0..x_t; since x_{t+1} is independent of them, its best accuracy is
    (1/vocab) sum_a max(a + 1, vocab - 1 - a) / vocab (0.75 for vocab = 4); a bidirectional model can reach 1.
    """
    _check(n, T=T)
    if T < 2:
        raise ValueError(f"next_rises needs T >= 2 steps (a tag compares a symbol with the next), got T={T}")
    if vocab < 2:
        raise ValueError(f"next_rises needs vocab >= 2 symbols, got vocab={vocab}")
    x = rng.integers(0, vocab, size=(n, T))
    y = np.full_like(x, IGNORE)
    y[:, :-1] = (x[:, 1:] > x[:, :-1]).astype(x.dtype)
    return x, y


def look_back_tokens(gen, n: int, vocab: int, T: int):
    """The look-back task of several attention heads: tokens x (n, T) drawn uniformly from 0..vocab-1 with the
    ``torch.Generator`` ``gen``; the targets at a position t >= 2 are the two previous tokens x[:, t-1] and
    x[:, t-2] (``rnnbook.models.self_attention.LookBack`` reads both out). A torch tensor, long."""
    import torch

    _check(n, vocab=vocab, T=T)
    return torch.randint(vocab, (n, T), generator=gen)


def look_back_targets(x):
    """The look-back task's targets at the positions t >= 2 of the tokens x (N, T): (x[:, t-1], x[:, t-2]), each
    (N, T - 2), to compare with the two read-outs at those positions (``logits[:, 2:]``)."""
    return x[:, 1:-1], x[:, :-2]
