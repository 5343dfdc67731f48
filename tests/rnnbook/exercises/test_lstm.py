"""Tests of ``rnnbook.exercises.lstm``: checks for the LSTM / GRU chapter's exercises. Each prints what is right or what
is wrong and where, and returns a bool; an answer that still raises ``NotImplementedError`` (the template) gets a
reminder, not a failure."""

from __future__ import annotations

import numpy as np

from rnnbook.exercises.lstm import check_causal_best, check_gru_step_backward
from rnnbook.numpy_nn.lstm import lstm_step_backward, sigmoid


def _template(*args):
    raise NotImplementedError("your code here")


def _gru_backward(dnext_h, x, prev_h, Wx, Wh, b, direct=True):
    H = prev_h.shape[1]
    a = x @ Wx + b
    r = sigmoid(a[:, :H] + prev_h @ Wh[:, :H])
    z = sigmoid(a[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])
    rh = r * prev_h
    h_tilde = np.tanh(a[:, 2 * H:] + rh @ Wh[:, 2 * H:])
    dz = dnext_h * (prev_h - h_tilde)
    dah = dnext_h * (1 - z) * (1 - h_tilde**2)
    drh = dah @ Wh[:, 2 * H:].T
    dar = drh * prev_h * r * (1 - r)
    daz = dz * z * (1 - z)
    dprev_h = drh * r + dar @ Wh[:, :H].T + daz @ Wh[:, H:2 * H].T + (dnext_h * z if direct else 0)
    da = np.concatenate([dar, daz, dah], axis=1)
    dWh = np.concatenate([prev_h.T @ dar, prev_h.T @ daz, rh.T @ dah], axis=1)
    return da @ Wx.T, dprev_h, x.T @ da, dWh, da.sum(axis=0)


def test_check_gru_step_backward(capsys):
    assert check_gru_step_backward(_gru_backward)
    assert not check_gru_step_backward(lambda *a: _gru_backward(*a, direct=False))
    assert "direct path" in capsys.readouterr().out
    assert not check_gru_step_backward(lambda *a: _gru_backward(*a)[:4])
    assert "(dx, dprev_h, dWx, dWh, db)" in capsys.readouterr().out
    assert not check_gru_step_backward(_template)
    assert "not implemented" in capsys.readouterr().out


def _causal_best(p):
    above = 1 - np.cumsum(p)
    return float(np.sum(p * np.maximum(above, 1 - above)))


def test_check_causal_best(capsys):
    assert check_causal_best(_causal_best)
    assert not check_causal_best(lambda p: 0.5)
    assert "chance" in capsys.readouterr().out

    def ties(p):
        above = 1 - np.cumsum(p) + p
        return float(np.sum(p * np.maximum(above, 1 - above)))

    assert not check_causal_best(ties)
    assert "ties" in capsys.readouterr().out

    def uniform(p):
        return _causal_best(np.full(len(p), 1 / len(p)))

    assert not check_causal_best(uniform)
    assert "uniform" in capsys.readouterr().out
    assert not check_causal_best(lambda p: "0.75")
    assert "one accuracy" in capsys.readouterr().out


# --- the chapter's exercise checks: a right answer passes, the usual wrong ones fail with a message -------------

def test_check_lstm_step_backward(capsys):
    from rnnbook.exercises.lstm import check_lstm_step_backward

    assert check_lstm_step_backward(lstm_step_backward)
    assert "correct" in capsys.readouterr().out

    def forgets_h_path(dnext_h, dnext_c, cache):
        dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
        return dx, dprev_h, dnext_c * cache[6], dWx, dWh, db

    assert not check_lstm_step_backward(forgets_h_path)
    assert "path through h_t" in capsys.readouterr().out
    assert not check_lstm_step_backward(lambda *a: (1, 2))
    assert "return the tuple" in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


# ---- confusing errors: exercise checks and wrong-shaped returns ----------------------------------------------------

def test_exercise_check_names_a_ragged_return_instead_of_crashing(capsys):
    from rnnbook.exercises.lstm import check_lstm_step_backward

    ragged = lambda dnext_h, dnext_c, cache: (np.zeros((3, 4)), (np.zeros(2), np.zeros(3)), 0, 0, 0, 0)
    assert not check_lstm_step_backward(ragged)
    assert "cannot turn into one array" in capsys.readouterr().out
