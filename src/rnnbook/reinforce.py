"""REINFORCE: the gradient of an expected reward when the choice itself cannot be differentiated.

For a policy p_theta(s) over discrete choices s and a reward R(s),

    grad_theta E_s[R(s)] = E_s[R(s) grad_theta log p_theta(s)]                (the score-function identity)
                         = E_s[(R(s) - b) grad_theta log p_theta(s)]           (any b not depending on s)

so one sample s ~ p_theta gives an unbiased estimate (R(s) - b) grad log p_theta(s). The baseline b leaves the
mean alone (E_s[grad log p_theta(s)] = grad sum_s p_theta(s) = grad 1 = 0) and, near E[R], shrinks the variance.
In code the estimate is the gradient of a *surrogate*, -(R - b) log p_theta(s) with R - b held constant.
Dividing R - b by a positive ``scale`` that does not depend on s (a running std of the rewards) rescales the estimate
without turning it: the same direction on average, with a step size that no longer grows with the rewards' spread.
"""

from __future__ import annotations

import torch
from torch import Tensor


def reinforce_surrogate(log_prob: Tensor, reward: Tensor, baseline: float | Tensor = 0.0,
                        scale: float = 1.0) -> Tensor:
    """-mean_n ((R_n - b) / scale) log p(s_n): minimising it follows the REINFORCE estimate of grad E[R].

    log_prob (N,): log p_theta(s_n) of the sampled choices (carries the gradient); reward (N,): R(s_n), treated as a
    constant (detached); baseline: a number or (N,) tensor, also constant; scale: a positive number dividing the
    advantage R - b (1.0: none). Returns a scalar tensor.
    """
    if not isinstance(log_prob, Tensor) or not isinstance(reward, Tensor):
        raise TypeError("log_prob and reward must be tensors of shape (N,)")
    if log_prob.shape != reward.shape or log_prob.dim() != 1:
        raise ValueError(f"log_prob and reward must both be (N,), got {tuple(log_prob.shape)} and "
                         f"{tuple(reward.shape)}")
    if not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale}")
    advantage = (reward - baseline).detach() / scale
    return -(advantage * log_prob).mean()


class MovingAverage:
    """b <- decay * b + (1 - decay) * mean(R): the running baseline of Xu et al. (2015, section 4.1).

    It also keeps the running spread of the rewards around it, v <- decay * v + (1 - decay) * mean((R - b)^2), with
    ``std`` = sqrt(v), to normalise the advantage. ``value`` is 0.0 and ``std`` 1.0 until the first ``update``, which
    sets them to that batch's mean and std (the std of a one-reward batch counts as 1.0).
    """

    def __init__(self, decay: float = 0.9):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.value = 0.0
        self.var = 1.0
        self.started = False

    @property
    def std(self) -> float:
        """The running std of the rewards around the baseline (1.0 before the first update)."""
        return self.var ** 0.5

    def update(self, reward: Tensor | float) -> float:
        """Fold a batch's rewards into the average; return the baseline *before* this batch (to use with it).

        ``std`` read before the call is likewise the spread before this batch (after the first one).
        """
        r = torch.as_tensor(reward).detach().double().flatten()
        mean = float(r.mean())
        if not self.started:
            self.value, self.started = mean, True
            self.var = float(r.var()) if r.numel() > 1 and float(r.var()) > 0 else 1.0
            return mean
        before = self.value
        spread = float(((r - before) ** 2).mean())
        self.value = self.decay * before + (1 - self.decay) * mean
        self.var = self.decay * self.var + (1 - self.decay) * spread
        return before
