"""The bidirectional tagging task and model of chapter 7, and the exercise checks of chapters 6 and 7 added with
them: each check accepts a right answer and names the mistake in a wrong one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook import gradflow as gf
from rnnbook.data.sequences import IGNORE, next_rises
from rnnbook.exercises.gradflow import check_grad_h0
from rnnbook.exercises.lstm import check_causal_best, check_gru_step_backward
from rnnbook.models.birnn import RecurrentTagger
from rnnbook.numpy_nn.lstm import sigmoid
from rnnbook.train import fit


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


def test_tagger_shapes_causality_and_bad_input():
    torch.manual_seed(0)
    uni, bi = RecurrentTagger(4, 2, 8), RecurrentTagger(4, 2, 8, bidirectional=True)
    x = torch.randint(0, 4, (3, 7))
    assert uni(x).shape == bi(x).shape == (3, 7, 2)
    assert bi.states(x).shape == (3, 7, 16)
    x2 = x.clone()
    x2[:, 5:] = (x2[:, 5:] + 1) % 4  # change the future of step 4
    torch.testing.assert_close(uni(x)[:, :5], uni(x2)[:, :5])  # a causal model cannot see it
    assert not torch.allclose(bi(x)[:, :5], bi(x2)[:, :5])  # a bidirectional one can
    with pytest.raises(ValueError, match="hidden"):
        RecurrentTagger(4, 2, 0)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        uni(torch.zeros(3, 7, 4, dtype=torch.long))


def test_backward_states_are_the_reversed_sequence_read_forward():
    torch.manual_seed(1)
    bi = RecurrentTagger(4, 2, 5, bidirectional=True)
    x = torch.randint(0, 4, (2, 6))
    h_bwd = bi.states(x)[..., 5:]
    ref, _ = bi.backward_rnn(bi.embed(x.flip(1)))
    torch.testing.assert_close(h_bwd, ref.flip(1))


def test_bidirectional_tagger_beats_the_causal_bound():
    def train(bidirectional, hidden):
        torch.manual_seed(0)
        data = np.random.default_rng(0)
        model = RecurrentTagger(4, 2, hidden, bidirectional=bidirectional)

        def step_loss(step):
            x, y = next_rises(data, 64, 12, 4)
            return F.cross_entropy(model(torch.as_tensor(x)).flatten(0, 1), torch.as_tensor(y).flatten())

        fit(model, step_loss, 150, progress=False)
        x, y = next_rises(np.random.default_rng(5), 500, 12, 4)
        with torch.no_grad():
            return (model(torch.as_tensor(x)).argmax(-1).numpy()[:, :-1] == y[:, :-1]).mean()

    uni, bi = train(False, 23), train(True, 16)
    assert 0.7 < uni < 0.77 and bi > 0.95


# ---------------------------------------------------------------- exercise checks


def _grad_h0(Whh, h, g):
    for t in range(h.shape[0] - 1, 0, -1):
        g = Whh.T @ ((1 - h[t] ** 2) * g)
    return g


def _template(*args):
    raise NotImplementedError("your code here")


def test_check_grad_h0(capsys):
    assert check_grad_h0(_grad_h0)

    def no_transpose(Whh, h, g):
        return _grad_h0(Whh.T, h, g)

    assert not check_grad_h0(no_transpose)
    assert "instead of W_hh^T" in capsys.readouterr().out

    def forward_mode(Whh, h, g):
        return gf.jacobian_products(Whh, h, "tanh")[-1] @ g

    assert not check_grad_h0(forward_mode)
    assert "forward-mode" in capsys.readouterr().out
    assert not check_grad_h0(_template)
    assert "not implemented" in capsys.readouterr().out


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
