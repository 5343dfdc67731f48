"""Tests of ``rnnbook.exercises.gradflow``: checks for the gradient-flow chapter's exercises. Each prints what is right
or what is wrong and where, and returns a bool; a template that still raises ``NotImplementedError`` gets a reminder,
not a crash."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from rnnbook import gradflow as gf  # noqa: E402
from rnnbook.exercises import gradflow as ex  # noqa: E402
from rnnbook.exercises.gradflow import check_grad_h0  # noqa: E402

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


def _solution_forget(lstm, value):
    H = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[H:2 * H] = value
            getattr(lstm, f"bias_hh_l{layer}")[H:2 * H] = 0.0


def test_check_set_forget_bias(capsys):
    assert ex.check_set_forget_bias(_solution_forget)

    def ih_only(lstm, value):
        H = lstm.hidden_size
        with torch.no_grad():
            for layer in range(lstm.num_layers):
                getattr(lstm, f"bias_ih_l{layer}")[H:2 * H] = value

    assert not ex.check_set_forget_bias(ih_only)
    assert "PyTorch adds bias_hh" in capsys.readouterr().out

    def input_gate(lstm, value):
        H = lstm.hidden_size
        with torch.no_grad():
            for layer in range(lstm.num_layers):
                getattr(lstm, f"bias_ih_l{layer}")[:H] = value
                getattr(lstm, f"bias_hh_l{layer}")[:H] = 0.0

    assert not ex.check_set_forget_bias(input_gate)
    assert "rows H:2H" in capsys.readouterr().out
    assert not ex.check_set_forget_bias(_template)
    assert "not implemented" in capsys.readouterr().out
