"""Delayed recall on an endless stream: the limit of truncated backpropagation through time, as a task.

The input is a stream of random symbols; the target at step t is the input d steps back, y_t = x_{t-d}.
Cut into chunks of k steps for TBPTT, the symbol a target needs lies inside the same chunk only when d < k:
for d >= k every path from x_{t-d} to the loss at t crosses a detached state, so no gradient can teach the model
to keep it. A model that learned nothing is right 1 / vocab of the time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

IGNORE = -100  # targets with no source (t < d), skipped by the loss; the same value as rnnbook.tbptt.IGNORE


def delayed_recall_stream(rng: np.random.Generator, batch_size: int, length: int, delay: int | Sequence[int],
                          vocab: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` rows of ``length`` random symbols in 0..vocab-1, and targets y[:, t] = x[:, t - delay].

    Returns x of shape (batch_size, length), int64, and y of the same shape with y[:, :delay] = ``IGNORE``;
    for a list of delays, y has shape (batch_size, length, len(delays)), one target per delay.
    """
    delays = [delay] if np.isscalar(delay) else list(delay)
    if batch_size < 1 or length < 1 or vocab < 2 or not delays or min(delays) < 0:
        raise ValueError(f"need batch_size >= 1, length >= 1, vocab >= 2 and delays >= 0, got "
                         f"batch_size={batch_size}, length={length}, vocab={vocab}, delay={delay}")
    x = rng.integers(0, vocab, size=(batch_size, length), dtype=np.int64)
    y = np.full((batch_size, length, len(delays)), IGNORE, dtype=np.int64)
    for j, d in enumerate(delays):
        y[:, d:, j] = x[:, : max(0, length - d)]
    return x, (y[..., 0] if np.isscalar(delay) else y)


def recall_chunks(rng: np.random.Generator, batch_size: int, length: int, delay: int | Sequence[int], seq_len: int,
                  vocab: int = 2) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One pass over a fresh delayed-recall stream, cut into contiguous chunks of ``seq_len`` steps for TBPTT."""
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    x, y = delayed_recall_stream(rng, batch_size, length, delay, vocab)
    for start in range(0, length, seq_len):
        yield x[:, start:start + seq_len], y[:, start:start + seq_len]
