"""Hard (stochastic) attention for Show, Attend and Tell (Xu et al. 2015, section 4.1).

Soft attention reads the expectation z_t = sum_i alpha_ti a_i. Hard attention *samples* one location and reads
its annotation only:

    s_t ~ Categorical(alpha_t),        z_t = a_{s_t}                     (alpha_t from the same f_att, (N, L))

The sample has no gradient, so training maximises the lower bound L_s = sum_s p(s | a) log p(y | s, a) with the
Monte Carlo estimate (one sample per caption)

    grad L_s ~ grad log p(y | s~, a) + lambda_r (log p(y | s~, a) - b) grad log p(s~ | a) + lambda_e grad H[s~]

the cross-entropy through the sampled features, REINFORCE on the locations with the caption's log-likelihood as
reward and a moving-average baseline b, and an entropy bonus. At test time (``model.eval()``) the decoder reads
the argmax location instead of a sample.
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
    of the locations it read in ``last_log_prob`` (N, T) and the locations in ``last_locations`` (N, T).
    """

    def __init__(self, *args, baseline_decay: float = 0.9, **kwargs):
        super().__init__(*args, **kwargs)
        if self.context != "attention":
            raise ValueError(f"HardAttendTell needs context='attention', got {self.context!r}")
        self.baseline = MovingAverage(baseline_decay)
        self._log_probs: list[Tensor] = []
        self._locations: list[Tensor] = []
        self._recording = False

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
        return z, alpha

    def forward(self, images: Tensor, captions_in: Tensor) -> tuple[Tensor, Tensor]:
        self._log_probs, self._locations, self._recording = [], [], True
        try:
            scores, alphas = super().forward(images, captions_in)
        finally:
            self._recording = False
        self.last_log_prob = torch.stack(self._log_probs, 1)
        self.last_locations = torch.stack(self._locations, 1)
        self._log_probs, self._locations = [], []
        return scores, alphas

    def loss(self, images: Tensor, captions: Tensor, reinforce: float = 0.02, entropy: float = 0.0,
             baseline: float | None = None) -> tuple[Tensor, dict]:
        """Mean cross-entropy per word + ``reinforce`` * REINFORCE surrogate - ``entropy`` * mean entropy of alpha.

        The reward of a caption is its log-likelihood under the sampled locations, R = sum_t log p(y_t | s_<=t, a);
        ``baseline=None`` uses the moving average (and updates it when training); a number is a fixed b (0.0: plain
        REINFORCE, no baseline). The default ``reinforce`` weight 0.02 offsets the scale of the term: R sums about ten
        words' log-probabilities and log p(s~ | a) about ten steps' log(1/L)-sized terms, so the raw surrogate is about
        a hundred times the per-word cross-entropy.
        Returns (loss, {"xent": ..., "reward": ..., "baseline": ...}).
        """
        if captions.dim() != 2 or captions.shape[0] != images.shape[0]:
            raise ValueError(f"captions must be (N, T+1) with N = {images.shape[0]}, got {tuple(captions.shape)}")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        scores, alphas = self(images, captions_in)
        mask = (captions_out != self.null_idx).to(scores.dtype)
        nll = F.cross_entropy(scores.transpose(1, 2), captions_out, ignore_index=self.null_idx, reduction="none")
        xent = (nll * mask).sum() / mask.sum()
        reward = -(nll * mask).sum(dim=1)  # (N,) log p(caption | sampled locations)
        if baseline is None:
            b = self.baseline.update(reward) if self.training else self.baseline.value
        else:
            b = float(baseline)
        log_prob = (self.last_log_prob * mask).sum(dim=1)  # (N,) log p(s~ | a) over the caption's steps
        total = xent + reinforce * reinforce_surrogate(log_prob, reward, b)
        if entropy:
            H = -(alphas * torch.log(alphas.clamp_min(1e-12))).sum(-1)
            total = total - entropy * (H * mask).sum() / mask.sum()
        return total, {"xent": float(xent.detach()), "reward": float(reward.detach().mean()), "baseline": float(b)}
