"""Tests of ``rnnbook.models.self_attention``: three properties of self-attention, each made measurable: order
blindness, the 1/sqrt(d_k) scale, several heads."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnnbook.data.sequences import look_back_tokens  # noqa: E402
from rnnbook.metrics import look_back_accuracy  # noqa: E402
from rnnbook.models.self_attention import (
    LookBack,
    attention_by_offset,
    score_statistics,
    self_attention,
    sinusoidal_positions,
    softmax_entropy,
    softmax_jacobian_norm,
)  # noqa: E402
from rnnbook.train.tasks import train_look_back  # noqa: E402


def _weights(d=6, dk=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(d, dk, generator=gen, dtype=torch.float64) for _ in range(3)]


def test_self_attention_is_permutation_equivariant_and_positions_break_it():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(7, 6, generator=gen, dtype=torch.float64)
    perm = torch.randperm(7, generator=gen)
    w = _weights()
    out, _ = self_attention(x, *w)
    torch.testing.assert_close(self_attention(x[perm], *w)[0], out[perm])
    pe = sinusoidal_positions(7, 6).double()
    with_pos = self_attention(x + pe, *w)[0]
    assert not torch.allclose(self_attention(x[perm] + pe, *w)[0], with_pos[perm], atol=1e-3)


def test_self_attention_scale_and_bad_weights():
    x = torch.randn(3, 5, 6, dtype=torch.float64)
    w = _weights()
    _, a = self_attention(x, *w)
    q, k = x @ w[0], x @ w[1]
    torch.testing.assert_close(a, torch.softmax(q @ k.transpose(-2, -1) / 2.0, -1))
    _, a_raw = self_attention(x, *w, scale=False)
    torch.testing.assert_close(a_raw, torch.softmax(q @ k.transpose(-2, -1), -1))
    with pytest.raises(ValueError, match="d_k"):
        self_attention(x, w[0], w[1][:, :3], w[2])


def test_sinusoidal_positions_formula_and_errors():
    pe = sinusoidal_positions(5, 4)
    assert pe.shape == (5, 4) and pe.dtype == torch.float32
    np.testing.assert_allclose(pe[3].numpy(), [math.sin(3), math.cos(3), math.sin(3 / 100), math.cos(3 / 100)],
                               rtol=1e-6)
    for T, d in ((0, 4), (4, 3), (4, 0)):
        with pytest.raises(ValueError):
            sinusoidal_positions(T, d)


def test_softmax_helpers():
    uniform, onehot = torch.full((4,), 0.25), torch.tensor([1.0, 0, 0, 0])
    assert math.isclose(float(softmax_entropy(uniform)), math.log(4), rel_tol=1e-6)
    assert float(softmax_entropy(onehot)) == pytest.approx(0.0, abs=1e-6)
    assert float(softmax_jacobian_norm(onehot)) == pytest.approx(0.0, abs=1e-7)
    a = torch.softmax(torch.randn(5, dtype=torch.float64), 0)
    jac = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, 0), torch.log(a))
    assert float(softmax_jacobian_norm(a)) == pytest.approx(float(jac.norm()), rel=1e-9)


def test_score_statistics_follow_the_theory():
    s = score_statistics([1, 16, 256], T=16, n=4000, seed=0)
    np.testing.assert_allclose(s["var_unscaled"] / np.array([1, 16, 256]), 1.0, atol=0.1)
    np.testing.assert_allclose(s["var_scaled"], 1.0, atol=0.1)
    assert s["max_weight_unscaled"][-1] > 0.8 > s["max_weight_scaled"][-1]
    assert s["entropy_unscaled"][-1] < s["entropy_unscaled"][0]
    with pytest.raises(ValueError):
        score_statistics([], T=16)


def test_look_back_two_heads_beat_one_and_shapes():
    one, _ = train_look_back(1, steps=400, seed=0)
    two, _ = train_look_back(2, steps=400, seed=0)
    assert sum(p.numel() for p in one.parameters()) == sum(p.numel() for p in two.parameters())
    x = look_back_tokens(torch.Generator().manual_seed(9), 256, 8, 8)
    acc1, acc2 = np.mean(look_back_accuracy(one, x)), np.mean(look_back_accuracy(two, x))
    assert acc2 > 0.99 and acc1 < acc2 - 0.05
    two(x)
    by_offset = attention_by_offset(two.attn.weights)
    assert by_offset.shape == (2, 4) and sorted(by_offset.argmax(1).tolist()) == [1, 2]
    with pytest.raises(ValueError):
        LookBack(8, d_model=30, heads=4)
    with pytest.raises(ValueError, match="shape"):
        two(x[:, :5])
    with pytest.raises(ValueError):
        attention_by_offset(two.attn.weights[0])
