"""Tests of ``rnnbook.exercises.recurrence``: checks for the recurrence chapter's exercises. Each prints what is right
or what is wrong and where, and returns a bool."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.exercises import check_multilayer_rnn
from rnnbook.exercises.recurrence import (
    check_param_count,
    check_rnn_step_backward,
)
from rnnbook.numpy_nn import multilayer_rnn_forward, rnn_step_backward


def test_template_gets_a_reminder_not_an_exception(capsys):
    def template(*args):
        raise NotImplementedError

    assert not check_rnn_step_backward(template)
    assert "not implemented yet" in capsys.readouterr().out
    assert not check_multilayer_rnn(template)
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


def _count(V, C, H, biases=2, head_bias=True):
    return V * H + 2 * H * H + biases * H + C * H + (C if head_bias else 0)


@pytest.mark.parametrize("answer, hint", [
    (lambda V, C, H: _count(V, C, H, biases=1), "two bias vectors"),
    (lambda V, C, H: _count(V, C, H, head_bias=False), "read-out's bias"),
    (lambda V, C, H: 12 * _count(V, C, H), "does not depend on the sequence length"),
    (lambda V, C, H: float(_count(V, C, H)), "return an int"),
])
def test_param_count_names_the_mistake(answer, hint, capsys):
    assert not check_param_count(answer)
    assert hint in capsys.readouterr().out


def test_param_count_accepts_the_count():
    assert check_param_count(lambda V, C, H: _count(V, C, H))


def _m2o(x, h0, Wx, Wh, b, dh_last, where="last"):
    from rnnbook.numpy_nn import rnn_backward, rnn_forward

    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = np.zeros_like(h)
    if where == "every":
        dh[:] = dh_last[:, None]
    else:
        dh[:, -1] = dh_last
    norms = np.linalg.norm(rnn_backward(dh, cache)[0], axis=(0, 2))
    return norms[::-1] if where == "reversed" else norms


def test_many_to_one_grad():
    from rnnbook.exercises.recurrence import check_many_to_one_grad

    assert check_many_to_one_grad(_m2o)


@pytest.mark.parametrize("where, hint", [("every", "many-to-many"), ("reversed", "reverse order")])
def test_many_to_one_grad_names_the_mistake(where, hint, capsys):
    from rnnbook.exercises.recurrence import check_many_to_one_grad

    assert not check_many_to_one_grad(lambda *a: _m2o(*a, where=where))
    assert hint in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


# ---- exercise checks compute the expectation on inputs the answer cannot change ----------------------------------

def test_7_a_backward_that_zeroes_its_inputs_in_place_is_rejected(capsys):
    def sneaky(dnext_h, cache):  # zeroes the upstream gradient, then returns the gradients of zero
        dnext_h[:] = 0.0
        return rnn_step_backward(dnext_h, cache)

    assert not check_rnn_step_backward(sneaky)
    assert "dx is wrong" in capsys.readouterr().out

    def shrinks_W(x, h0, W):  # zeroes the second layer's weights, then runs the stack on what is left
        W[1][:] = 0.0
        return multilayer_rnn_forward(x, h0, W)

    assert not check_multilayer_rnn(shrinks_W)
    assert "the top layer's states is wrong" in capsys.readouterr().out


def test_7_a_correct_in_place_backward_is_accepted():
    def in_place(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        dnext_h *= 1 - next_h**2  # da, computed in the upstream gradient's own memory
        return dnext_h @ Wx.T, dnext_h @ Wh.T, x.T @ dnext_h, prev_h.T @ dnext_h, dnext_h.sum(axis=0)

    assert check_rnn_step_backward(in_place)
