"""Tests of REINFORCE (the surrogate, the moving-average baseline), the hard-attention captioner and the optimal-
baseline exercise check."""

import numpy as np
import pytest
import torch

from rnnbook.exercises.attention import check_optimal_baseline, reference_optimal_baseline
from rnnbook.models.attention import GridEncoder, ShowAttendTell
from rnnbook.models.hard_attention import HardAttendTell
from rnnbook.reinforce import MovingAverage, reinforce_surrogate

V, NULL, START, END = 12, 0, 1, 2


def toy(seed=0, K=5):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(K, generator=g, requires_grad=True)
    R = torch.randn(K, generator=g) + 3.0
    return logits, R


def estimates(logits, R, b, n, seed=1):
    """n single-sample REINFORCE gradients (R_s - b)(e_s - p), (n, K); checked against the package surrogate's."""
    p = torch.softmax(logits, 0)
    s = torch.multinomial(p.detach(), n, replacement=True, generator=torch.Generator().manual_seed(seed))
    g = (R[s] - b)[:, None] * (torch.eye(len(p))[s] - p.detach())
    loss = reinforce_surrogate(torch.log_softmax(logits, 0)[s], R[s], b)
    np.testing.assert_allclose(-torch.autograd.grad(loss, logits)[0].numpy(), g.mean(0).numpy(),
                               rtol=1e-4, atol=1e-6)
    return g


def test_reinforce_is_unbiased_against_the_exact_gradient():
    logits, R = toy()
    exact = torch.autograd.grad((torch.softmax(logits, 0) * R).sum(), logits)[0]
    for b in (0.0, 2.5):
        g = estimates(logits, R, b, 4000)
        z = ((g.mean(0) - exact) / (g.std(0) / np.sqrt(len(g)))).abs().max()
        assert z < 4.5, (b, float(z))


def test_a_biased_estimator_is_caught():
    """The test above can fail: dropping the score's -p term (grad log p taken as e_s) is biased."""
    logits, R = toy()
    p = torch.softmax(logits, 0).detach()
    exact = torch.autograd.grad((torch.softmax(logits, 0) * R).sum(), logits)[0]
    s = torch.multinomial(p, 4000, replacement=True, generator=torch.Generator().manual_seed(1))
    g = R[s][:, None] * torch.eye(len(p))[s]
    z = ((g.mean(0) - exact) / (g.std(0) / np.sqrt(len(g)))).abs().max()
    assert z > 4.5


def test_the_mean_baseline_reduces_variance_and_the_optimal_one_more():
    logits, R = toy()
    p = torch.softmax(logits, 0).detach()
    var = {name: float(estimates(logits, R, b, 3000).var(0).sum())
           for name, b in [("none", 0.0), ("mean", float(p @ R)),
                           ("optimal", reference_optimal_baseline(p.numpy(), R.numpy()))]}
    assert var["mean"] < 0.3 * var["none"], var
    assert var["optimal"] <= var["mean"] * 1.02, var


def test_surrogate_treats_reward_as_constant_and_checks_shapes():
    lp = torch.zeros(3, requires_grad=True)
    reward = torch.ones(3, requires_grad=True)
    reinforce_surrogate(lp, reward, 0.5).backward()
    assert reward.grad is None
    np.testing.assert_allclose(lp.grad.numpy(), [-0.5 / 3] * 3, rtol=1e-6)
    with pytest.raises(ValueError, match="log_prob and reward"):
        reinforce_surrogate(torch.zeros(3), torch.zeros(4))
    with pytest.raises(TypeError):
        reinforce_surrogate([0.0], torch.zeros(1))


def test_moving_average_starts_at_the_first_batch_and_decays():
    m = MovingAverage(0.5)
    assert m.update(torch.tensor([2.0, 4.0])) == 3.0  # first batch: its own mean
    assert m.update(torch.tensor([5.0])) == 3.0  # returns the value before this batch
    assert m.value == 4.0
    with pytest.raises(ValueError, match="decay"):
        MovingAverage(1.0)


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


def test_soft_attention_gradient_reaches_the_attention():
    torch.manual_seed(0)
    soft = ShowAttendTell(V, NULL, START, END, wordvec_dim=8, hidden_dim=16, attn_dim=8,
                          encoder=GridEncoder((4, 8, 8)))
    a = torch.randn(4, 64, soft.encoder.out_dim)
    loss, _ = soft.loss(a, torch.tensor([[START, 3, 4, END]] * 4))
    grads = torch.autograd.grad(loss, list(soft.attention.parameters()))
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_check_optimal_baseline_names_the_mean_reward(capsys):
    assert check_optimal_baseline(reference_optimal_baseline)
    assert not check_optimal_baseline(lambda p, R: float(p @ R))
    assert "mean reward" in capsys.readouterr().out
    assert not check_optimal_baseline(lambda p, R: float(R.mean()))
    assert "without the probabilities" in capsys.readouterr().out
