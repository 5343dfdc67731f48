"""REINFORCE: the gradient of an expected reward when the choice itself cannot be differentiated.

For a policy p_theta(s) over discrete choices s and a reward R(s),

    grad_theta E_s[R(s)] = E_s[R(s) grad_theta log p_theta(s)]                (the score-function identity)
                         = E_s[(R(s) - b) grad_theta log p_theta(s)]           (any b not depending on s)

so one sample s ~ p_theta gives an unbiased estimate (R(s) - b) grad log p_theta(s). The baseline b leaves the
mean alone (E_s[grad log p_theta(s)] = grad sum_s p_theta(s) = grad 1 = 0) and, near E[R], shrinks the variance.
In code the estimate is the gradient of a *surrogate*, -(R - b) log p_theta(s) with R - b held constant.
"""

from __future__ import annotations

import torch
from torch import Tensor


def reinforce_surrogate(log_prob: Tensor, reward: Tensor, baseline: float | Tensor = 0.0) -> Tensor:
    """-mean_n (R_n - b) log p(s_n): minimising it follows the REINFORCE estimate of grad E[R].

    log_prob (N,): log p_theta(s_n) of the sampled choices (carries the gradient); reward (N,): R(s_n), treated as a
    constant (detached); baseline: a number or (N,) tensor, also constant. Returns a scalar tensor.
    """
    if not isinstance(log_prob, Tensor) or not isinstance(reward, Tensor):
        raise TypeError("log_prob and reward must be tensors of shape (N,)")
    if log_prob.shape != reward.shape or log_prob.dim() != 1:
        raise ValueError(f"log_prob and reward must both be (N,), got {tuple(log_prob.shape)} and "
                         f"{tuple(reward.shape)}")
    advantage = (reward - baseline).detach()
    return -(advantage * log_prob).mean()


class MovingAverage:
    """b <- decay * b + (1 - decay) * mean(R): the running baseline of Xu et al. (2015, section 4.1).

    ``value`` is 0.0 until the first ``update``, which sets it to that batch's mean reward.
    """

    def __init__(self, decay: float = 0.9):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.value = 0.0
        self.started = False

    def update(self, reward: Tensor | float) -> float:
        """Fold a batch's rewards into the average; return the baseline *before* this batch (to use with it)."""
        before = self.value
        mean = float(torch.as_tensor(reward).detach().float().mean())
        self.value = mean if not self.started else self.decay * self.value + (1 - self.decay) * mean
        if not self.started:
            before, self.started = mean, True
        return before
