"""Hard (stochastic) attention for Show, Attend and Tell (Xu et al. 2015, section 4.1).

Soft attention reads the expectation z_t = sum_i alpha_ti a_i. Hard attention *samples* one location and reads
its annotation only:

    s_t ~ Categorical(alpha_t),        z_t = a_{s_t}                     (alpha_t from the same f_att, (N, L))

The sample has no gradient, so training maximises the lower bound L_s = sum_s p(s | a) log p(y | s, a) with the
Monte Carlo estimate (one sample per caption)

    grad L_s ~ grad log p(y | s~, a) + lambda_r (log p(y | s~, a) - b) / sigma grad log p(s~ | a) + lambda_e grad H[s~]

the cross-entropy through the sampled features, REINFORCE on the locations with the caption's log-likelihood as
reward, a moving-average baseline b (and optionally sigma, the rewards' running std; else sigma = 1), and an entropy
bonus. Xu et al. also set s~ to its expected value alpha for a caption with probability 0.5: that caption reads the
soft context sum_i alpha_ti a_i and trains the attention by backpropagation (``expected`` below). At test time
(``model.eval()``) the decoder reads the argmax location instead of a sample.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnbook.models.attention import ShowAttendTell
from rnnbook.reinforce import MovingAverage, reinforce_surrogate


class HardAttendTell(ShowAttendTell):
    """ShowAttendTell whose context is one sampled location (training) or the argmax location (eval).

    Same constructor as ``ShowAttendTell`` (``context`` must stay ``"attention"``), plus ``baseline_decay`` for the
    moving-average baseline. ``forward`` returns (scores (N, T, V), alphas (N, T, L)) and keeps the log-probability
    of the locations it read in ``last_log_prob`` (N, T) and the locations in ``last_locations`` (N, T). While
    training, ``forward(..., expected=mask)`` with a bool mask (N,) makes the marked captions read the soft context
    sum_i alpha_ti a_i at every step instead of a sample (their ``last_locations`` are still the samples drawn).
    """

    def __init__(self, *args, baseline_decay: float = 0.9, **kwargs):
        super().__init__(*args, **kwargs)
        if self.context != "attention":
            raise ValueError(f"HardAttendTell needs context='attention', got {self.context!r}")
        self.baseline = MovingAverage(baseline_decay)
        self._log_probs: list[Tensor] = []
        self._locations: list[Tensor] = []
        self._recording = False
        self._expected: Tensor | None = None

    def attend(self, a: Tensor, a_proj: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """z_t = a at a sampled location (training) or the most likely one (eval); also returns alpha_t (N, L)."""
        log_alpha = torch.log_softmax(self.attention.scores(a_proj, h), dim=1)
        alpha = log_alpha.exp()
        if self.training:
            loc = torch.multinomial(alpha.detach(), 1).squeeze(1)
        else:
            loc = alpha.argmax(dim=1)
        if self._recording:
            self._log_probs.append(log_alpha.gather(1, loc[:, None]).squeeze(1))
            self._locations.append(loc)
        z = a[torch.arange(a.shape[0], device=a.device), loc]
        if self.training and self._expected is not None:
            soft = (alpha[:, :, None] * a).sum(dim=1)  # (N, D), differentiable through alpha
            z = torch.where(self._expected[:, None], soft, z)
        return z, alpha

    def forward(self, images: Tensor, captions_in: Tensor,
                expected: Tensor | None = None) -> tuple[Tensor, Tensor]:
        N = captions_in.shape[0]
        if expected is not None and (not isinstance(expected, Tensor) or expected.dtype != torch.bool
                                     or tuple(expected.shape) != (N,)):
            got = f"{expected.dtype} {tuple(expected.shape)}" if isinstance(expected, Tensor) else type(expected)
            raise ValueError(f"expected must be a bool tensor of shape ({N},), got {got}")
        self._log_probs, self._locations, self._recording = [], [], True
        self._expected = expected
        try:
            scores, alphas = super().forward(images, captions_in)
        finally:
            self._recording, self._expected = False, None
        self.last_log_prob = torch.stack(self._log_probs, 1)
        self.last_locations = torch.stack(self._locations, 1)
        self._log_probs, self._locations = [], []
        return scores, alphas

    def loss(self, images: Tensor, captions: Tensor, reinforce: float = 0.02, entropy: float = 0.0,
             baseline: float | None = None, expected: float = 0.0, normalize: bool = False) -> tuple[Tensor, dict]:
        """Mean cross-entropy per word + ``reinforce`` * REINFORCE surrogate - ``entropy`` * mean entropy of alpha.

        The reward of a caption is its log-likelihood under the sampled locations, R = sum_t log p(y_t | s_<=t, a);
        ``baseline=None`` uses the moving average (and updates it when training); a number is a fixed b (0.0: plain
        REINFORCE, no baseline). The default ``reinforce`` weight 0.02 offsets the scale of the term: R sums about ten
        words' log-probabilities and log p(s~ | a) about ten steps' log(1/L)-sized terms, so the raw surrogate is about
        a hundred times the per-word cross-entropy.

        Variance reduction of Xu et al. (2015, section 4.1), all off by default:

        - ``expected``: probability, per caption and only when training, of reading the expectation sum_i alpha_ti a_i
          instead of a sample. Those captions train the attention by backpropagation (an exact gradient, no sampling
          noise) and take no part in REINFORCE, the reward or the baseline.
        - ``entropy``: lambda_e, a bonus on the entropy of alpha_t, which keeps the policy exploring.
        - ``normalize``: divide the advantage R - b by the running std of the rewards (``self.baseline.std``), so the
          REINFORCE step has unit scale whatever the spread of the rewards.

        Returns (loss, {"xent": ..., "reward": ..., "baseline": ..., "expected": share of captions read softly}).
        """
        if captions.dim() != 2 or captions.shape[0] != images.shape[0]:
            raise ValueError(f"captions must be (N, T+1) with N = {images.shape[0]}, got {tuple(captions.shape)}")
        if not 0.0 <= expected <= 1.0:
            raise ValueError(f"expected is a probability in [0, 1], got {expected}")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        N = captions.shape[0]
        soft = None
        if self.training and expected > 0:
            soft = torch.rand(N, device=captions.device) < expected
        scores, alphas = self(images, captions_in, expected=soft)
        mask = (captions_out != self.null_idx).to(scores.dtype)
        nll = F.cross_entropy(scores.transpose(1, 2), captions_out, ignore_index=self.null_idx, reduction="none")
        xent = (nll * mask).sum() / mask.sum()
        sampled = torch.ones(N, dtype=torch.bool, device=captions.device) if soft is None else ~soft
        reward = -(nll * mask).sum(dim=1)[sampled]  # (n,) log p(caption | sampled locations)
        log_prob = (self.last_log_prob * mask).sum(dim=1)[sampled]  # (n,) log p(s~ | a) over the caption's steps
        sigma = self.baseline.std  # like b, the spread of earlier batches (of this one, on the first)
        if baseline is not None:
            b = float(baseline)
        elif self.training and reward.numel():
            started = self.baseline.started
            b = self.baseline.update(reward)
            sigma = sigma if started else self.baseline.std
        else:
            b = self.baseline.value
        total = xent
        if reward.numel():  # sum over the sampled captions / N: each caption weighs the same as in xent
            scale = max(sigma, 1e-6) if normalize else 1.0
            total = total + reinforce * reinforce_surrogate(log_prob, reward, b, scale) * (reward.numel() / N)
        if entropy:
            H = -(alphas * torch.log(alphas.clamp_min(1e-12))).sum(-1)
            total = total - entropy * (H * mask).sum() / mask.sum()
        mean_reward = float(reward.detach().mean()) if reward.numel() else float("nan")
        return total, {"xent": float(xent.detach()), "reward": mean_reward, "baseline": float(b),
                       "expected": 0.0 if soft is None else float(soft.float().mean())}
