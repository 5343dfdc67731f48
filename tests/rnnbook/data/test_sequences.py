"""Tests of ``rnnbook.data.sequences``: synthetic sequence tasks, small enough to train in seconds: one per
computational graph, and the classic tests of whether a cell can remember."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.data.sequences import (
    ADDING_BASELINE_MSE,
    IGNORE,
    adding_problem,
    counting,
    delayed_echo,
    delayed_recall,
    majority,
    next_rises,
    recall_chunks,
    reversal,
)


def test_next_rises_tags_compare_with_the_next_symbol():
    x, y = next_rises(np.random.default_rng(0), 50, T=9, vocab=5)
    assert x.shape == y.shape == (50, 9) and x.min() >= 0 and x.max() <= 4
    np.testing.assert_array_equal(y[:, :-1], (x[:, 1:] > x[:, :-1]).astype(int))
    assert (y[:, -1] == IGNORE).all()
    x2, y2 = next_rises(np.random.default_rng(0), 50, T=9, vocab=5)
    np.testing.assert_array_equal(x, x2)


def test_next_rises_rejects_bad_sizes():
    rng = np.random.default_rng(0)
    for kwargs in ({"T": 1}, {"vocab": 1}, {"n": 0}):
        with pytest.raises(ValueError):
            next_rises(rng, **{"n": 3, **kwargs})


def test_the_causal_best_formula_matches_a_count():
    # Bayes rule on x_t alone, counted on samples, equals the docstring's 0.75 for vocab 4
    x, y = next_rises(np.random.default_rng(1), 20_000, T=2, vocab=4)
    guess = (x[:, 0] < 2).astype(int)  # a rise is likely when x_t is 0 or 1; at 1 it is a tie
    assert abs((guess == y[:, 0]).mean() - 0.75) < 0.01


def test_adding_problem():
    x, y = adding_problem(np.random.default_rng(0), 2000, T=10)
    assert x.shape == (2000, 10, 2) and y.shape == (2000,)
    marks = x[:, :, 1]
    assert np.all(marks.sum(axis=1) == 2)
    assert np.all(marks[:, :5].sum(axis=1) == 1) and np.all(marks[:, 5:].sum(axis=1) == 1)
    np.testing.assert_allclose(y, (x[:, :, 0] * marks).sum(axis=1))
    assert np.mean((y - 1.0) ** 2) == pytest.approx(ADDING_BASELINE_MSE, rel=0.1)
    x2, y2 = adding_problem(np.random.default_rng(0), 2000, T=10)
    np.testing.assert_array_equal(x, x2)
    with pytest.raises(ValueError, match="T >= 2"):
        adding_problem(np.random.default_rng(0), 3, T=1)


def test_delayed_recall():
    x, y = delayed_recall(np.random.default_rng(2), 100, lag=7, vocab=3, distractors=2)
    assert x.shape == (100, 8) and y.shape == (100,)
    np.testing.assert_array_equal(y, x[:, 0])
    assert set(np.unique(x[:, 0])) <= {0, 1, 2} and set(np.unique(x[:, 1:])) <= {3, 4}
    with pytest.raises(ValueError):
        delayed_recall(np.random.default_rng(2), 0)


def test_delayed_echo_targets_are_the_inputs_delay_steps_back():
    x, y = delayed_echo(np.random.default_rng(0), 3, 40, delay=5, vocab=3, fill=IGNORE)
    assert x.shape == y.shape == (3, 40) and set(np.unique(x)) <= {0, 1, 2}
    assert (y[:, :5] == IGNORE).all() and np.array_equal(y[:, 5:], x[:, :-5])
    x2, ys = delayed_echo(np.random.default_rng(0), 3, 40, delay=[1, 5], vocab=3, fill=IGNORE)
    assert ys.shape == (3, 40, 2) and np.array_equal(x2, x)
    assert np.array_equal(ys[..., 1], y) and np.array_equal(ys[:, 1:, 0], x[:, :-1]) and (ys[:, 0, 0] == IGNORE).all()
    _, blank = delayed_echo(np.random.default_rng(0), 3, 40, delay=5, vocab=3)  # the default: a blank class
    assert (blank[:, :5] == 3).all() and np.array_equal(blank[:, 5:], y[:, 5:])
    chunks = list(recall_chunks(np.random.default_rng(0), 3, 40, 5, 16, vocab=3))
    assert [c[0].shape[1] for c in chunks] == [16, 16, 8]
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks], 1), x)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks], 1), y)
    with pytest.raises(ValueError, match="delay"):
        delayed_echo(np.random.default_rng(0), 3, 40, delay=-1)


def test_graph_tasks_are_what_they_say():
    rng = np.random.default_rng(0)
    x, y = majority(rng, 50, T=7)
    np.testing.assert_array_equal(y, (x.sum(1) >= 4).astype(int))
    k, y = counting(rng, 5, T=4, vocab=10)
    np.testing.assert_array_equal(np.diff(y, axis=1) % 10, 1)
    np.testing.assert_array_equal(y[:, 0], k)
    x, y = reversal(rng, 5, T=4)
    np.testing.assert_array_equal(y, x[:, ::-1])
    with pytest.raises(ValueError, match="n >= 1"):
        majority(rng, 0)


def test_the_tasks_are_seeded():
    for task in (majority, delayed_echo, counting, reversal, adding_problem, delayed_recall):
        a, b = task(np.random.default_rng(3), 4), task(np.random.default_rng(3), 4)
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_ignore_is_torchs_ignore_index_and_the_one_the_losses_use():
    import inspect

    import torch.nn.functional as F

    from rnnbook import tbptt

    assert IGNORE == inspect.signature(F.cross_entropy).parameters["ignore_index"].default
    assert tbptt.IGNORE == IGNORE
