"""Tests of ``rnnbook.reinforce``: rEINFORCE: the gradient of an expected reward when the choice itself cannot be
differentiated."""

import numpy as np
import pytest
import torch

from rnnbook.exercises.attention import reference_optimal_baseline
from rnnbook.reinforce import MovingAverage, reinforce_surrogate


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
    lp.grad = None
    reinforce_surrogate(lp, reward.detach(), 0.5, scale=2.0).backward()  # the advantage / 2
    np.testing.assert_allclose(lp.grad.numpy(), [-0.25 / 3] * 3, rtol=1e-6)
    with pytest.raises(ValueError, match="scale"):
        reinforce_surrogate(lp, reward, 0.5, scale=0.0)


def test_moving_average_starts_at_the_first_batch_and_decays():
    m = MovingAverage(0.5)
    assert m.update(torch.tensor([2.0, 4.0])) == 3.0  # first batch: its own mean
    assert m.update(torch.tensor([5.0])) == 3.0  # returns the value before this batch
    assert m.value == 4.0
    np.testing.assert_allclose(m.std, np.sqrt(0.5 * 2.0 + 0.5 * 4.0))  # 0.5 * var(2, 4) + 0.5 * (5 - 3)^2


def test_moving_average_std_starts_at_one_and_at_the_first_batch():
    m = MovingAverage(0.9)
    assert m.std == 1.0
    m.update(torch.tensor([1.0, 3.0]))
    np.testing.assert_allclose(m.std, np.sqrt(2.0))  # the first batch's own (unbiased) variance
    one = MovingAverage(0.9)
    one.update(torch.tensor([5.0]))
    assert one.std == 1.0 and one.value == 5.0
    with pytest.raises(ValueError, match="decay"):
        MovingAverage(1.0)
