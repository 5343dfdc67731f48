"""Tests of ``rnnbook.numpy_nn.rnn``: the vanilla (Elman) RNN layer in numpy, in CS231n's form, so students' code and
checks carry over."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnbook.numpy_nn import (
    eval_numerical_gradient_array,
    multilayer_rnn_forward,
    rel_error,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

from .bad_input import DTYPES, SETTINGS, _check, _int_inputs, rnn_case


def params(rng, N=3, T=4, D=5, H=6):
    return (rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((D, H)) * 0.4,
            rng.standard_normal((H, H)) * 0.4, rng.standard_normal(H))


def test_step_forward_matches_the_column_vector_equation():
    rng = np.random.default_rng(0)
    x, h0, Wx, Wh, b = params(rng)
    next_h, _ = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    # the slide's form: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b), one column per example
    W_hh, W_xh = Wh.T, Wx.T
    expected = np.tanh(W_hh @ h0.T + W_xh @ x[:, 0].T + b[:, None]).T
    np.testing.assert_allclose(next_h, expected, rtol=1e-12)


def test_step_backward_matches_numerical_gradients():
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = params(rng)
    x = x[:, 0].copy()
    out, cache = rnn_step_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = rnn_step_backward(dout, cache)
    for arr, grad in zip((x, h0, Wx, Wh, b), grads):
        num = eval_numerical_gradient_array(lambda _: rnn_step_forward(x, h0, Wx, Wh, b)[0], arr, dout)
        assert rel_error(num, grad) < 1e-7


def test_rnn_backward_matches_numerical_gradients():
    rng = np.random.default_rng(2)
    x, h0, Wx, Wh, b = params(rng)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    grads = rnn_backward(dh, cache)
    for arr, grad in zip((x, h0, Wx, Wh, b), grads):
        num = eval_numerical_gradient_array(lambda _: rnn_forward(x, h0, Wx, Wh, b)[0], arr, dh)
        assert rel_error(num, grad) < 1e-7


def test_rnn_forward_matches_torch_rnn():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, h0, Wx, Wh, b = params(rng)
    rnn = torch.nn.RNN(5, 6, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx.T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
        out, _ = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(rnn_forward(x, h0, Wx, Wh, b)[0], out.numpy(), rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 4), T=st.integers(1, 6), D=st.integers(1, 5), H=st.integers(1, 5))
def test_shapes_for_any_sizes(N, T, D, H):
    rng = np.random.default_rng(N * 1000 + T * 100 + D * 10 + H)
    x, h0, Wx, Wh, b = params(rng, N, T, D, H)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    assert h.shape == (N, T, H)
    assert np.all(np.abs(h) < 1)
    shapes = [g.shape for g in rnn_backward(np.ones_like(h), cache)]
    assert shapes == [(N, T, D), (N, H), (D, H), (H, H), (H,)]


def test_shape_errors_name_the_argument():
    rng = np.random.default_rng(4)
    x, h0, Wx, Wh, b = params(rng)
    with pytest.raises(ValueError, match="Wh"):
        rnn_forward(x, h0, Wx, Wh[:, :3], b)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\)"):
        rnn_forward(x[0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="h0"):
        rnn_forward(x, h0[:2], Wx, Wh, b)
    with pytest.raises(ValueError, match="NaN"):
        rnn_step_forward(x[:, 0] * np.nan, h0, Wx, Wh, b)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="dh must have shape"):
        rnn_backward(h[:, :2], cache)


def test_multilayer_equals_stacked_layers():
    rng = np.random.default_rng(5)
    N, T, n = 2, 5, 3
    x, h0 = rng.standard_normal((N, T, n)), rng.standard_normal((2, N, n))
    W = [rng.standard_normal((n, 2 * n)) for _ in range(2)]
    below = x
    for l in range(2):
        below, _ = rnn_forward(below, h0[l], W[l][:, :n].T, W[l][:, n:].T, np.zeros(n))
    np.testing.assert_allclose(multilayer_rnn_forward(x, h0, W), below, rtol=1e-12)
    with pytest.raises(ValueError, match=r"W\[1\]"):
        multilayer_rnn_forward(x, h0, [W[0], W[1][:, :n]])


# --- bad input ------------------------------------------------------------------------------------------------


def test_3_rnn_forward_on_integers_returns_float_states():
    args = _int_inputs()
    h, _ = rnn_forward(*args)
    want, _ = rnn_forward(*(a.astype(float) for a in args))
    assert h.dtype == np.float64 and np.any(h != 0)
    np.testing.assert_allclose(h, want)


def test_3_rnn_backward_with_an_integer_upstream_gradient_is_not_truncated():
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), \
        rng.standard_normal((3, 3)), rng.standard_normal(3)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.integers(-3, 4, h.shape)
    got, want = rnn_backward(dh, cache), rnn_backward(dh.astype(float), cache)
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w)


# ---- confusing errors: wrong types and out-of-range inputs ----------------------------------------------------------

def test_numpy_layer_refuses_a_torch_tensor():
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"rnn_step_forward: x must be a numpy array.*x.detach\(\).cpu\(\).numpy\(\)"):
        rnn_step_forward(torch.zeros(2, 3), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4))
    with pytest.raises(TypeError, match="Wh must hold real numbers"):
        rnn_step_forward(x, np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4), bool), np.zeros(4))


def test_numpy_layer_accepts_lists_like_arrays():
    args = [[[0.5, -0.5, 1.0]], [[0.0, 0.0]], [[0.1, 0.2]] * 3, [[0.3, 0.1], [0.0, 0.2]], [0.0, 0.1]]
    got, _ = rnn_step_forward(*args)
    want, _ = rnn_step_forward(*(np.asarray(a) for a in args))
    np.testing.assert_array_equal(got, want)


@SETTINGS
@given(rnn_case())
def test_property_rnn_forward(case):
    _check(rnn_forward, case, "rnn_forward")


@SETTINGS
@given(rnn_case(seq=False))
def test_property_rnn_step_forward(case):
    _check(rnn_step_forward, case, "rnn_step_forward")


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 4), st.sampled_from(DTYPES), st.booleans(), st.integers(0, 2**16))
def test_property_rnn_backward_upstream(N, T, dtype, wrong_shape, seed):
    """dh of any dtype: a float gradient equal to the float64 one, or a clear error naming dh."""
    rng = np.random.default_rng(seed)
    D, H = 2, 3
    _, cache = rnn_forward(rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((D, H)),
                           rng.standard_normal((H, H)), rng.standard_normal(H))
    dh = rng.integers(-3, 4, (N, T + wrong_shape, H)).astype(dtype)
    if wrong_shape or dtype in (np.bool_, np.complex128):
        with pytest.raises((ValueError, TypeError), match=r"rnn_backward: dh must"):
            rnn_backward(dh, cache)
        return
    got, want = rnn_backward(dh, cache), rnn_backward(dh.astype(np.float64), cache)
    for g, w in zip(got, want):
        assert g.dtype.kind == "f"
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
