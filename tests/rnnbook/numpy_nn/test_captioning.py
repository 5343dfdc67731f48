"""Tests of ``rnnbook.numpy_nn.captioning``: image captioning in numpy, in CS231n's form: word embedding, temporal
affine, temporal softmax, CaptioningRNN."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from rnnbook.numpy_nn.captioning import (
    CaptioningRNN,
    sgd_train,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from rnnbook.numpy_nn.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)

WORDS = {"<NULL>": 0, "<START>": 1, "<END>": 2, "<UNK>": 3, "a": 4, "cat": 5, "dog": 6}


# ------------------------------------------------------------------------------------------------ numpy layers
def test_word_embedding_forward_backward():
    rng = np.random.default_rng(0)
    x = np.array([[0, 3, 1, 2], [2, 1, 0, 3]])
    W = rng.standard_normal((5, 3))
    out, cache = word_embedding_forward(x, W)
    for n, t in itertools.product(range(2), range(4)):
        np.testing.assert_array_equal(out[n, t], W[x[n, t]])
    dout = rng.standard_normal(out.shape)
    dW = word_embedding_backward(dout, cache)
    num = eval_numerical_gradient_array(lambda W_: word_embedding_forward(x, W_)[0], W, dout)
    assert rel_error(dW, num) < 1e-9
    with pytest.raises(ValueError, match="indices"):
        word_embedding_forward(np.array([[5]]), W)


def test_temporal_affine_gradients():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    out, cache = temporal_affine_forward(x, w, b)
    np.testing.assert_allclose(out[1, 2], x[1, 2] @ w + b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = temporal_affine_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda z: temporal_affine_forward(z, w, b)[0], x, dout)) < 1e-8
    assert rel_error(dw, eval_numerical_gradient_array(lambda z: temporal_affine_forward(x, z, b)[0], w, dout)) < 1e-8
    assert rel_error(db, eval_numerical_gradient_array(lambda z: temporal_affine_forward(x, w, z)[0], b, dout)) < 1e-8


def test_temporal_softmax_loss_values_and_gradient():
    # CS231n's sanity values: uniform scores give loss = T * log(V) per caption (times the unmasked fraction)
    N, T, V = 100, 1, 10
    rng = np.random.default_rng(2)
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    assert temporal_softmax_loss(x, y, np.ones((N, T), bool))[0] == pytest.approx(np.log(V) * T, rel=1e-3)
    N, T = 100, 10
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) <= 0.1
    assert temporal_softmax_loss(x, y, mask)[0] == pytest.approx(np.log(V) * mask.sum() / N, rel=1e-2)
    # against torch's cross-entropy (sum over unmasked positions / N) and numerical gradients
    x = rng.standard_normal((7, 8, V))
    y = rng.integers(0, V, (7, 8))
    mask = rng.random((7, 8)) < 0.5
    loss, dx = temporal_softmax_loss(x, y, mask)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x).reshape(-1, V), torch.tensor(y).reshape(-1), reduction="none")
    assert loss == pytest.approx(float((ref * torch.tensor(mask).reshape(-1)).sum() / 7), rel=1e-10)
    assert rel_error(dx, eval_numerical_gradient(lambda z: temporal_softmax_loss(z, y, mask)[0], x)) < 1e-7


def test_captioning_rnn_shapes_and_names():
    m = CaptioningRNN(WORDS, input_dim=20, wordvec_dim=30, hidden_dim=40, cell_type="lstm")
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {"W_embed": (7, 30), "W_proj": (20, 40), "b_proj": (40,), "Wx": (30, 160), "Wh": (40, 160),
                      "b": (160,), "W_vocab": (40, 7), "b_vocab": (7,)}
    assert all(v.dtype == np.float32 for v in m.params.values())
    with pytest.raises(ValueError, match="cell_type"):
        CaptioningRNN(WORDS, cell_type="gru")


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_rnn_gradcheck(cell_type):
    """CS231n's check: every parameter's analytic gradient against centred differences, in float64."""
    rng = np.random.default_rng(3)
    N, D, W, H, T = 2, 4, 5, 6, 5
    m = CaptioningRNN(WORDS, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type=cell_type, dtype=np.float64)
    features = rng.standard_normal((N, D))
    captions = rng.integers(0, len(WORDS), (N, T))
    captions[:, 0] = 1
    captions[0, -2:] = 0  # some <NULL> targets, masked out
    m.params["W_embed"] = rng.standard_normal(m.params["W_embed"].shape)  # O(1) inputs: no tiny gradients
    loss, grads = m.loss(features, captions)
    assert loss > 0
    for name in sorted(m.params):
        num = eval_numerical_gradient(lambda _: m.loss(features, captions)[0], m.params[name], h=1e-5)
        assert rel_error(num, grads[name]) < 1e-5, name


# CS231n's RNN_Captioning / LSTM_Captioning check cells, as they are: a vocabulary without <START> and <END>, every
# parameter set to a linspace, and the loss the assignment expects (its notebooks print 9.83235591003 and
# 9.82445935443); then its gradient check on a tiny model.
CS231N_WORDS = {"<NULL>": 0, "cat": 2, "dog": 3}


@pytest.mark.parametrize("cell_type, lo, hi, expected_loss",
                         [("rnn", -1.5, 0.3, 9.83235591003), ("lstm", -0.5, 1.7, 9.82445935443)])
def test_cs231n_captioning_loss_cell(cell_type, lo, hi, expected_loss):
    N, D, W, H = 10, 20, 30, 40
    word_to_idx = dict(CS231N_WORDS)
    V = len(word_to_idx)
    T = 13
    model = CaptioningRNN(word_to_idx, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type=cell_type,
                          dtype=np.float64)
    for k, v in model.params.items():
        model.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(*v.shape)
    features = np.linspace(lo, hi, num=(N * D)).reshape(N, D)
    captions = (np.arange(N * T) % V).reshape(N, T)
    loss, grads = model.loss(features, captions)
    assert abs(loss - expected_loss) < 1e-9
    with pytest.raises(ValueError, match="<START>"):
        model.sample(features)  # sampling is what needs <START> and <END>


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_cs231n_captioning_gradient_check_cell(cell_type):
    np.random.seed(231)
    batch_size, timesteps, input_dim, wordvec_dim, hidden_dim = 2, 3, 4, 5, 6
    word_to_idx = dict(CS231N_WORDS)
    vocab_size = len(word_to_idx)
    captions = np.random.randint(vocab_size, size=(batch_size, timesteps))
    features = np.random.randn(batch_size, input_dim)
    model = CaptioningRNN(word_to_idx, input_dim=input_dim, wordvec_dim=wordvec_dim, hidden_dim=hidden_dim,
                          cell_type=cell_type, dtype=np.float64)
    loss, grads = model.loss(features, captions)
    for param_name in sorted(grads):
        f = lambda _: model.loss(features, captions)[0]
        param_grad_num = eval_numerical_gradient(f, model.params[param_name], verbose=False, h=1e-6)
        # CS231n prints rel_error; entry by entry it is large where a slope is itself tiny (the LSTM's Wx has
        # entries near 1e-6). Central differences at h = 1e-6 in float64 carry a roundoff of about 1e-10 on each
        # slope (eps * loss / h), so the check is on the absolute error, a hundred times that roundoff
        print(param_name, rel_error(param_grad_num, grads[param_name]))
        assert np.abs(param_grad_num - grads[param_name]).max() < 1e-8, param_name


def test_captioning_rnn_matches_torch_lstm():
    """The numpy LSTM captioner's loss equals a torch re-implementation with the same weights (gates i, f, o, g)."""
    rng = np.random.default_rng(4)
    N, D, W, H, T = 3, 4, 5, 6, 7
    m = CaptioningRNN(WORDS, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type="lstm", dtype=np.float64)
    features = rng.standard_normal((N, D))
    captions = rng.integers(0, len(WORDS), (N, T))
    captions[:, 0] = 1
    captions[1, 4:] = 0
    p = {k: torch.tensor(v) for k, v in m.params.items()}
    lstm = torch.nn.LSTM(W, H, batch_first=True, dtype=torch.float64)
    perm = torch.cat([torch.arange(0, H), torch.arange(H, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    with torch.no_grad():  # torch orders the gate blocks i, f, g, o
        lstm.weight_ih_l0.copy_(p["Wx"].T[perm])
        lstm.weight_hh_l0.copy_(p["Wh"].T[perm])
        lstm.bias_ih_l0.copy_(p["b"][perm])
        lstm.bias_hh_l0.zero_()
    h0 = (torch.tensor(features) @ p["W_proj"] + p["b_proj"]).unsqueeze(0)
    cap = torch.tensor(captions)
    h, _ = lstm(p["W_embed"][cap[:, :-1]], (h0, torch.zeros_like(h0)))
    scores = h @ p["W_vocab"] + p["b_vocab"]
    ce = torch.nn.functional.cross_entropy(scores.reshape(-1, len(WORDS)), cap[:, 1:].reshape(-1), reduction="none")
    want = float((ce * (cap[:, 1:] != 0).reshape(-1)).sum().detach() / N)
    assert m.loss(features, captions)[0] == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_rnn_overfits_and_samples(cell_type):
    """A tiny model memorises two captions; greedy sampling then reproduces them from the features."""
    feats = np.array([[1.0, 0.0], [0.0, 1.0]])
    caps = np.array([[1, 4, 5, 2, 0], [1, 4, 6, 6, 2]])
    m = CaptioningRNN(WORDS, input_dim=2, wordvec_dim=8, hidden_dim=16, cell_type=cell_type, dtype=np.float64)
    hist = sgd_train(m, feats, caps, num_epochs=300, batch_size=2, learning_rate=2e-2)
    assert hist[-1] < 0.05 < hist[0]
    out = m.sample(feats, max_length=6)
    np.testing.assert_array_equal(out[0, :3], [4, 5, 2])
    np.testing.assert_array_equal(out[1, :4], [4, 6, 6, 2])
    assert (out[0, 3:] == 0).all()


# --- bad input ------------------------------------------------------------------------------------------------


# ---- word ids in [0, V) and finite features ---------------------------------------------------------------------

SMALL_WORDS = {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "b": 4}


def test_4_captioning_loss_refuses_negative_word_ids():
    model = CaptioningRNN(SMALL_WORDS, input_dim=3, wordvec_dim=4, hidden_dim=5, dtype=np.float64)
    captions = np.array([[1, 3, 4, -1]])  # -1 in the last column is only ever a target: it used to wrap to "b"
    with pytest.raises(ValueError, match=r"captions must hold word ids in \[0, 5\)"):
        model.loss(np.ones((1, 3)), captions)


def test_4_temporal_softmax_loss_refuses_negative_targets():
    x = np.zeros((1, 2, 5))
    with pytest.raises(ValueError, match=r"y must hold word ids in \[0, 5\)"):
        temporal_softmax_loss(x, np.array([[1, -1]]), np.ones((1, 2), bool))


def test_4_captioning_sample_refuses_nan_features():
    model = CaptioningRNN(SMALL_WORDS, input_dim=3, wordvec_dim=4, hidden_dim=5, dtype=np.float64)
    with pytest.raises(ValueError, match="features contains NaN"):
        model.sample(np.full((2, 3), np.nan))
