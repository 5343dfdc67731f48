"""Tests of ``rnnbook.models.hard_attention``: hard (stochastic) attention for Show, Attend and Tell (Xu et al. 2015,
section 4.1)."""

import numpy as np
import pytest
import torch

from rnnbook.models.attention import GridEncoder
from rnnbook.models.hard_attention import HardAttendTell

V, NULL, START, END = 12, 0, 1, 2


def small_hard(seed=0):
    torch.manual_seed(seed)
    return HardAttendTell(V, NULL, START, END, wordvec_dim=8, hidden_dim=16, attn_dim=8,
                          encoder=GridEncoder((4, 8, 8)))


def test_hard_attention_reads_one_location_and_argmax_at_eval():
    model = small_hard()
    a = torch.randn(3, 64, model.encoder.out_dim)
    caps = torch.tensor([[START, 3, 4, END, NULL], [START, 5, END, NULL, NULL], [START, 6, 7, 8, END]])
    model.train()
    scores, alphas = model(a, caps[:, :-1])
    assert scores.shape == (3, 4, V) and alphas.shape == (3, 4, 64)
    loc = model.last_locations
    lp = model.last_log_prob
    np.testing.assert_allclose(lp.exp().detach().numpy(),
                               alphas.gather(2, loc[..., None])[..., 0].detach().numpy(), rtol=1e-5)
    model.eval()
    model(a, caps[:, :-1])
    alphas_eval = model(a, caps[:, :-1])[1]
    assert torch.equal(model.last_locations, alphas_eval.argmax(-1))
    d = model.greedy(a, max_length=5)
    assert d.tokens.shape[0] == 3 and not model._log_probs  # decoding records nothing


def test_hard_loss_trains_attention_only_through_reinforce():
    model = small_hard()
    model.train()
    a = torch.randn(4, 64, model.encoder.out_dim)
    caps = torch.tensor([[START, 3, 4, END]] * 4)
    loss, info = model.loss(a, caps, reinforce=0.0)
    grads = torch.autograd.grad(loss, list(model.attention.parameters()), allow_unused=True)
    assert all(g is None or float(g.abs().sum()) == 0.0 for g in grads)  # the sample blocks backprop
    loss, info = model.loss(a, caps, reinforce=1.0, baseline=0.0)
    grads = torch.autograd.grad(loss, list(model.attention.parameters()), allow_unused=True)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0
    assert info["baseline"] == 0.0 and info["reward"] < 0
    with pytest.raises(ValueError, match="context"):
        HardAttendTell(V, NULL, START, END, context="uniform")
