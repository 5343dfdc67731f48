"""Tests of ``rnnbook.data.streams``: contiguous batch streams for truncated backpropagation through time (TBPTT)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.data import batchify, tbptt_batches, train_val_split


def test_batchify_rows_are_contiguous_and_chunks_continue():
    ids = np.arange(103)
    rows = batchify(ids, 4)
    assert rows.shape == (4, 25)
    assert all(np.all(np.diff(row) == 1) for row in rows)
    chunks = list(tbptt_batches(ids, batch_size=4, seq_len=7))
    x = np.concatenate([c[0] for c in chunks], axis=1)
    y = np.concatenate([c[1] for c in chunks], axis=1)
    np.testing.assert_array_equal(x, rows[:, :-1])  # chunk k+1 starts where chunk k stopped
    np.testing.assert_array_equal(y, rows[:, 1:])  # targets are the next ids
    assert [c[0].shape[1] for c in chunks] == [7, 7, 7, 3]


def test_stream_errors():
    with pytest.raises(ValueError, match="too short"):
        batchify(np.arange(5), 4)
    with pytest.raises(ValueError, match="1-D"):
        batchify(np.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match="seq_len"):
        next(tbptt_batches(np.arange(50), 2, 0))


def test_train_val_split_is_a_prefix_cut():
    train, val = train_val_split(np.arange(100), 0.9)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError):
        train_val_split(np.arange(10), 1.0)
