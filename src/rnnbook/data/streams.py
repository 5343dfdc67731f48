"""Contiguous batch streams for truncated backpropagation through time (TBPTT).

A long stream of token ids is cut into ``batch_size`` rows that each read a contiguous stretch of the text.
Chunk ``k`` of row ``b`` continues exactly where chunk ``k - 1`` of row ``b`` stopped, which is what lets a
model carry its hidden state from one chunk to the next ("carry hidden states forward in time forever").
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut a 1-D stream of ids, shape (n,), into rows, shape (batch_size, n // batch_size).

    The tail that does not fill a whole row is dropped. Row ``b`` holds ids[b*L:(b+1)*L].
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"expected a 1-D stream of ids, got shape {ids.shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    length = len(ids) // batch_size
    if length < 2:
        raise ValueError(
            f"a stream of {len(ids)} ids is too short for batch_size={batch_size}: "
            "each row needs at least 2 ids (an input and its target); use a smaller batch_size or more text"
        )
    return ids[: length * batch_size].reshape(batch_size, length)


def tbptt_batches(ids: np.ndarray, batch_size: int, seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x, y) chunks of shape (batch_size, seq_len) with y[:, t] = x[:, t + 1] in the stream.

    Consecutive chunks continue each row, so the hidden state at the end of one chunk is the right
    initial state of the next. The last chunk may be shorter than ``seq_len``.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    rows = batchify(ids, batch_size)
    for start in range(0, rows.shape[1] - 1, seq_len):
        stop = min(start + seq_len, rows.shape[1] - 1)
        yield rows[:, start:stop], rows[:, start + 1 : stop + 1]


def train_val_split(ids: np.ndarray, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """First ``train_fraction`` of the stream for training, the rest for validation (no shuffling)."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    cut = int(len(ids) * train_fraction)
    return ids[:cut], ids[cut:]
