"""Tests of ``rnnbook.exercises.minchar``: checks for the min-char-rnn chapter's exercises. Each prints what is right or
what is wrong and where, and returns a bool; a template that still raises ``NotImplementedError`` gets a reminder,
not a failure."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.exercises import minchar as minchar_ex
from rnnbook.exercises.minchar import check_word_probability
from rnnbook.minchar import forward


def _word_p(params, ids, T, scale=1.0):
    ys = forward(ids[:-1], np.zeros((params.Whh.shape[0], 1)), params)[1]
    p = 1.0
    for y, j in zip(ys, ids[1:]):
        z = y / T * scale
        z = z - z.max()
        p *= np.exp(z[j]) / np.exp(z).sum()
    return p


def test_word_probability():
    assert check_word_probability(_word_p)


@pytest.mark.parametrize("answer, hint", [
    (lambda p, i, T: _word_p(p, i, 1.0), "temperature was ignored"),
    (lambda p, i, T: np.log(_word_p(p, i, T)), "log-probability"),
])
def test_word_probability_names_the_mistake(answer, hint, capsys):
    assert not check_word_probability(answer)
    assert hint in capsys.readouterr().out


# --- the chapter's exercise checks and the sampling table -------------------------------------------------------

def test_check_batched_forward_loss(capsys):
    from rnnbook.exercises.minchar import check_batched_forward_loss

    def right(inputs, targets, hprev, params):
        T, B = inputs.shape
        h, loss = hprev, 0.0
        for t in range(T):
            h = np.tanh(params.Wxh[:, inputs[t]].T + h @ params.Whh.T + params.bh.T)
            y = h @ params.Why.T + params.by.T
            p = np.exp(y) / np.exp(y).sum(axis=1, keepdims=True)
            loss -= np.log(p[np.arange(B), targets[t]]).sum()
        return loss / B, h

    def summed(inputs, targets, hprev, params):
        loss, h = right(inputs, targets, hprev, params)
        return loss * inputs.shape[1], h

    assert check_batched_forward_loss(right) and "correct" in capsys.readouterr().out
    assert not check_batched_forward_loss(summed)
    assert "sum over streams" in capsys.readouterr().out
    assert not check_batched_forward_loss(lambda *a: 1.0)
    assert "(loss, h_last)" in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


def test_8_a_batched_loss_returned_as_a_string_is_rejected(capsys):
    from rnnbook.minchar_batched import batched_lossFun

    def as_text(inputs, targets, hprev, params):
        out = batched_lossFun(inputs, targets, hprev, params)
        return str(out[0]), out[6]

    assert not minchar_ex.check_batched_forward_loss(as_text)
    assert "the loss as one number" in capsys.readouterr().out
