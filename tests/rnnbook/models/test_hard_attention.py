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


def test_expected_one_reads_the_soft_context_and_backpropagates_into_attention():
    from rnnbook.models.attention import ShowAttendTell

    hard = small_hard()
    soft = ShowAttendTell(V, NULL, START, END, wordvec_dim=8, hidden_dim=16, attn_dim=8,
                          encoder=GridEncoder((4, 8, 8)))
    soft.load_state_dict(hard.state_dict(), strict=False)
    hard.train(), soft.train()
    a = torch.randn(4, 64, hard.encoder.out_dim)
    caps = torch.tensor([[START, 3, 4, END], [START, 5, END, NULL], [START, 6, 7, END], [START, 8, END, NULL]])
    loss, info = hard.loss(a, caps, reinforce=1.0, expected=1.0)
    soft_loss, _ = soft.loss(a, caps)
    # no REINFORCE term, and the soft context at every step: the soft model's loss
    np.testing.assert_allclose(float(loss.detach()), float(soft_loss.detach()), rtol=1e-5)
    assert info["expected"] == 1.0
    grads = torch.autograd.grad(loss, list(hard.attention.parameters()), allow_unused=True)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0  # backprop reaches f_att
    before = hard.baseline.started
    hard.loss(a, caps, expected=1.0)
    assert hard.baseline.started == before  # no sampled caption, no reward for the baseline
    hard.eval()  # at test time the switch is off: the argmax location, as without it
    torch.manual_seed(0)
    _, info_eval = hard.loss(a, caps, expected=1.0)
    assert info_eval["expected"] == 0.0
    with pytest.raises(ValueError, match="expected"):
        hard.loss(a, caps, expected=1.5)
    with pytest.raises(ValueError, match="expected"):
        hard(a, caps[:, :-1], expected=torch.ones(3, dtype=torch.bool))


def test_expected_half_mixes_soft_and_sampled_captions():
    model = small_hard()
    model.train()
    a = torch.randn(64, 64, model.encoder.out_dim)
    caps = torch.tensor([[START, 3, 4, END]] * 64)
    torch.manual_seed(1)
    loss, info = model.loss(a, caps, reinforce=0.0, expected=0.5)
    assert 0.25 < info["expected"] < 0.75
    grads = torch.autograd.grad(loss, list(model.attention.parameters()), allow_unused=True)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0  # the soft half backpropagates


def test_normalize_divides_the_reinforce_gradient_by_the_rewards_std():
    model = small_hard()
    model.train()
    a = torch.randn(8, 64, model.encoder.out_dim)
    caps = torch.tensor([[START, 3, 4, END]] * 8)
    model.baseline.var = 4.0  # running std 2
    params = list(model.attention.parameters())
    flat = []
    for normalize in (False, True):
        torch.manual_seed(3)  # the same sampled locations
        loss, _ = model.loss(a, caps, reinforce=1.0, baseline=0.0, normalize=normalize)
        flat.append(torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)]))
    assert float(flat[0].abs().sum()) > 0
    np.testing.assert_allclose(flat[1].numpy(), flat[0].numpy() / 2.0, rtol=1e-4, atol=1e-7)
