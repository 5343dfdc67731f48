"""Tests of ``rnnbook.numpy_nn.lstm``: the LSTM layer in numpy, in CS231n's form, so students' code and checks carry
over."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.numpy_nn.gradcheck import eval_numerical_gradient_array, rel_error
from rnnbook.numpy_nn.lstm import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    sigmoid,
)

from .bad_input import SETTINGS, _check, _int_inputs, _layer_args, rnn_case


def params(rng, N=3, T=4, D=5, H=6):
    return (rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((D, 4 * H)) * 0.4,
            rng.standard_normal((H, 4 * H)) * 0.4, rng.standard_normal(4 * H))


def test_step_forward_matches_the_slide():
    """(i, f, o, g) = (sigma, sigma, sigma, tanh) W [h_{t-1}; x_t]; c_t = f c + i g; h_t = o tanh(c_t), per column."""
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b = params(rng)
    x = x[:, 0]
    c0 = rng.standard_normal(h0.shape)
    H = h0.shape[1]
    W = np.concatenate([Wh.T, Wx.T], axis=1)  # (4H, H + D), the slide's single W
    for n in range(x.shape[0]):
        a = W @ np.concatenate([h0[n], x[n]]) + b
        i, f, o = (1 / (1 + np.exp(-a[k * H:(k + 1) * H])) for k in range(3))
        g = np.tanh(a[3 * H:])
        c = f * c0[n] + i * g
        h = o * np.tanh(c)
        next_h, next_c, _ = lstm_step_forward(x[n:n + 1], h0[n:n + 1], c0[n:n + 1], Wx, Wh, b)
        np.testing.assert_allclose(next_c[0], c, rtol=1e-12)
        np.testing.assert_allclose(next_h[0], h, rtol=1e-12)


def test_step_backward_matches_numerical_gradients():
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = params(rng)
    x = x[:, 0].copy()
    c0 = rng.standard_normal(h0.shape)
    next_h, next_c, cache = lstm_step_forward(x, h0, c0, Wx, Wh, b)
    dnext_h, dnext_c = rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)
    grads = lstm_step_backward(dnext_h, dnext_c, cache)

    def loss_of(_):  # the scalar sum(next_h * dnext_h) + sum(next_c * dnext_c), so both upstream paths count
        h, c, _ = lstm_step_forward(x, h0, c0, Wx, Wh, b)
        return np.concatenate([h, c], axis=1)

    upstream = np.concatenate([dnext_h, dnext_c], axis=1)
    for name, arr, grad in zip(("x", "prev_h", "prev_c", "Wx", "Wh", "b"), (x, h0, c0, Wx, Wh, b), grads):
        num = eval_numerical_gradient_array(loss_of, arr, upstream)
        assert rel_error(num, grad) < 1e-7, name


def test_lstm_backward_matches_numerical_gradients():
    rng = np.random.default_rng(2)
    x, h0, Wx, Wh, b = params(rng)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    grads = lstm_backward(dh, cache)
    for name, arr, grad in zip(("x", "h0", "Wx", "Wh", "b"), (x, h0, Wx, Wh, b), grads):
        num = eval_numerical_gradient_array(lambda _: lstm_forward(x, h0, Wx, Wh, b)[0], arr, dh)
        assert rel_error(num, grad) < 1e-6, name  # entries near 1e-4 carry ~1e-7 relative finite-difference noise


def test_lstm_forward_and_backward_match_torch_lstm():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = params(rng)
    H = h0.shape[1]
    ifog_to_ifgo = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]  # torch's rows i, f, g, o from our columns i, f, o, g
    lstm = torch.nn.LSTM(5, H, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(Wx.T[ifog_to_ifgo]))
        lstm.weight_hh_l0.copy_(torch.from_numpy(Wh.T[ifog_to_ifgo]))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b[ifog_to_ifgo]))
        lstm.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0)[None].requires_grad_()
    out, _ = lstm(xt, (h0t, torch.zeros_like(h0t)))
    dh = rng.standard_normal(out.shape)
    out.backward(torch.from_numpy(dh))

    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = lstm_backward(dh, cache)
    np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dh0, h0t.grad[0].numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dWx, lstm.weight_ih_l0.grad.numpy().T[:, np.argsort(ifog_to_ifgo)], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dWh, lstm.weight_hh_l0.grad.numpy().T[:, np.argsort(ifog_to_ifgo)], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db, lstm.bias_ih_l0.grad.numpy()[np.argsort(ifog_to_ifgo)], rtol=1e-9, atol=1e-12)


def test_cell_state_carries_gradient_when_the_forget_gate_is_open():
    """With f = 1, i = 0 (large biases), c_T = c_0 and dc_0 = dc_T exactly: the lecture's uninterrupted path."""
    rng = np.random.default_rng(4)
    N, D, H = 2, 3, 4
    Wx, Wh = np.zeros((D, 4 * H)), np.zeros((H, 4 * H))
    b = np.concatenate([np.full(H, -50.0), np.full(H, 50.0), np.zeros(H), np.zeros(H)])  # i = 0, f = 1
    c, h = rng.standard_normal((N, H)), np.zeros((N, H))
    c0, caches = c.copy(), []
    for _ in range(20):
        h, c, cache = lstm_step_forward(rng.standard_normal((N, D)), h, c, Wx, Wh, b)
        caches.append(cache)
    np.testing.assert_allclose(c, c0, rtol=1e-12)
    dc, dh = np.ones((N, H)), np.zeros((N, H))
    for cache in reversed(caches):
        _, dh, dc, *_ = lstm_step_backward(dh, dc, cache)
    np.testing.assert_allclose(dc, np.ones((N, H)), rtol=1e-12)


def test_sigmoid_is_stable_and_correct():
    x = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 30.0, 1000.0])
    with np.errstate(over="raise"):
        s = sigmoid(x)
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.exp(30.0)), 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-2.0)),
                                   1 / (1 + np.exp(-30.0)), 1.0], rtol=1e-12, atol=0)


@settings(max_examples=20, deadline=None)
@given(N=st.integers(1, 4), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4))
def test_shapes_for_any_sizes(N, T, D, H):
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + H)
    x, h0, Wx, Wh, b = params(rng, N, T, D, H)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    assert h.shape == (N, T, H)
    grads = lstm_backward(np.ones_like(h), cache)
    assert [g.shape for g in grads] == [(N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]


def test_bad_shapes_raise_clear_errors():
    rng = np.random.default_rng(5)
    x, h0, Wx, Wh, b = params(rng)
    with pytest.raises(ValueError, match="4H columns"):
        lstm_forward(x, h0, Wx, Wh, b[:-1])
    with pytest.raises(ValueError, match="Wh"):
        lstm_forward(x, h0, Wx, Wh[:, :-4], b)
    with pytest.raises(ValueError, match="x"):
        lstm_forward(x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="prev_c"):
        lstm_step_forward(x[:, 0], h0, h0[:, :-1], Wx, Wh, b)
    _, _, cache = lstm_step_forward(x[:, 0], h0, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="dnext_c"):
        lstm_step_backward(h0, h0[:, :-1], cache)
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="dh"):
        lstm_backward(h[:, :-1], cache)


# --- bad input ------------------------------------------------------------------------------------------------


def test_3_lstm_forward_on_integers_returns_float_states():
    args = _int_inputs(G=4)
    h, _ = lstm_forward(*args)
    want, _ = lstm_forward(*(a.astype(float) for a in args))
    assert h.dtype == np.float64 and np.any(h != 0)
    np.testing.assert_allclose(h, want)


@SETTINGS
@given(rnn_case(G=4))
def test_property_lstm_forward(case):
    _check(lstm_forward, case, "lstm_forward")


@st.composite
def lstm_step_case(draw):
    N, D, H = (draw(st.integers(1, 3)) for _ in range(3))
    names = ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
    return _layer_args(draw, names, [(N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)])


@SETTINGS
@given(lstm_step_case())
def test_property_lstm_step_forward(case):
    _check(lstm_step_forward, case, "lstm_step_forward")
