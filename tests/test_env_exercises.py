"""Seeds, device and scale knobs; the exercise checks accept right answers and explain wrong ones."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import rnnbook
from rnnbook.exercises import check_multilayer_rnn, check_rnn_step_backward, check_rnn_step_forward
from rnnbook.numpy_nn import multilayer_rnn_forward, rnn_step_backward, rnn_step_forward


def test_seed_everything_repeats_every_generator():
    def draw():
        rnnbook.seed_everything(7)
        return random.random(), np.random.rand(), torch.rand(1).item()

    assert draw() == draw()
    with pytest.raises(TypeError):
        rnnbook.seed_everything("7")


def test_scale_and_device_knobs(monkeypatch):
    monkeypatch.delenv("RNNBOOK_SCALE", raising=False)
    assert rnnbook.get_scale() == "ci"
    monkeypatch.setenv("RNNBOOK_SCALE", "FULL")
    assert rnnbook.get_scale() == "full"
    monkeypatch.setenv("RNNBOOK_SCALE", "huge")
    with pytest.raises(ValueError, match="RNNBOOK_SCALE"):
        rnnbook.get_scale()
    monkeypatch.setenv("RNNBOOK_DEVICE", "cpu")
    assert rnnbook.get_device() == "cpu"
    monkeypatch.delenv("RNNBOOK_DEVICE")
    assert rnnbook.get_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_knob(monkeypatch, capsys):
    monkeypatch.delenv("RNNBOOK_SEED", raising=False)
    assert rnnbook.get_seed() == 0 and rnnbook.setup().seed == 0
    monkeypatch.setenv("RNNBOOK_SEED", " 2 ")
    assert rnnbook.setup().seed == 2 and "seed=2" in capsys.readouterr().out
    first = np.random.rand()
    assert rnnbook.setup().seed == 2 and np.random.rand() == first  # the knob seeds every generator
    assert rnnbook.setup(seed=5).seed == 5  # an explicit seed wins over the knob
    monkeypatch.setenv("RNNBOOK_SEED", "one")
    with pytest.raises(ValueError, match="RNNBOOK_SEED"):
        rnnbook.setup()


def test_step_forward_check(capsys):
    assert check_rnn_step_forward(rnn_step_forward)
    assert not check_rnn_step_forward(lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh))
    assert "without the bias" in capsys.readouterr().out
    assert not check_rnn_step_forward(lambda x, h, Wx, Wh, b: (x @ Wx)[:, :2])
    assert "shape" in capsys.readouterr().out


def test_template_gets_a_reminder_not_an_exception(capsys):
    def template(*args):
        raise NotImplementedError

    assert not check_rnn_step_forward(template)
    assert "not implemented yet" in capsys.readouterr().out
    assert not check_rnn_step_backward(lambda d, c: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_backward_and_multilayer_checks(capsys):
    assert check_rnn_step_backward(rnn_step_backward)

    def forgot_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        return dnext_h @ Wx.T, dnext_h @ Wh.T, x.T @ dnext_h, prev_h.T @ dnext_h, dnext_h.sum(0)

    assert not check_rnn_step_backward(forgot_tanh_derivative)
    assert "dx is wrong" in capsys.readouterr().out
    assert check_multilayer_rnn(multilayer_rnn_forward)
    assert not check_multilayer_rnn(lambda x, h0, W: multilayer_rnn_forward(x, h0[:1], W[:1]))
    assert "layer 2 was not applied" in capsys.readouterr().out


def test_as_number_accepts_scalars_and_explains_the_rest(capsys):
    from rnnbook.exercises.common import as_number

    assert as_number("check_x", 1) == 1.0
    assert as_number("check_x", np.float32(0.5)) == 0.5
    assert as_number("check_x", np.array(2.5)) == 2.5
    assert as_number("check_x", (1.0, 2.0), "one number (nats)") is None
    assert "check_x: return one number (nats), got tuple." in capsys.readouterr().out


def test_returns_tuple_names_what_was_expected(capsys):
    from rnnbook.exercises.common import returns_tuple

    assert returns_tuple("check_x", (1, 2), 2, "the pair (a, b)")
    assert not returns_tuple("check_x", (1, 2, 3), 2, "the pair (a, b)")
    assert "check_x: return the pair (a, b), got tuple of 3." in capsys.readouterr().out
    assert not returns_tuple("check_x", [1, 2], 2, "the pair (a, b)")
    assert "check_x: return the pair (a, b), got list." in capsys.readouterr().out
