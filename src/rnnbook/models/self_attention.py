"""Three properties of self-attention, each made measurable: order blindness, the 1/sqrt(d_k) scale, several heads.

Self-attention (one head, no mask) over a set of T vectors X (T, d):

    Q = X W_q, K = X W_k, V = X W_v                        (T, d_k)
    A = softmax(Q K^T / sqrt(d_k))                         (T, T), rows sum to 1
    out = A V                                              (T, d_k)

1. Permutation equivariance: for a permutation matrix P, self_attention(P X) = P self_attention(X); the layer sees a
   set, not a sequence. Adding position vectors, X + PE with PE (T, d) fixed per position, breaks it.
   ``sinusoidal_positions`` is Vaswani et al.'s  PE[t, 2i] = sin(t w_i), PE[t, 2i+1] = cos(t w_i), w_i = base^(-2i/d).
2. Scale: for q, k with independent unit-variance entries, Var(q . k) = d_k, so unscaled scores grow like
   sqrt(d_k) and the softmax saturates (one weight near 1, its Jacobian diag(a) - a a^T near 0).
   ``score_statistics`` measures both, with and without the scale.
3. Heads: ``LookBack`` is one attention layer with a linear read-out trained to output the two previous tokens
   x_{t-1} and x_{t-2} at every position t; with one head, one softmax must serve both, with two heads each
   can look at one position (the same parameter count: heads split d_model, they do not add weights). Its
   tokens are ``rnnbook.data.sequences.look_back_tokens``, its trainer ``rnnbook.train.tasks.train_look_back``,
   its score ``rnnbook.metrics.look_back_accuracy``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnnbook.models.transformer import SelfAttention, dot_product_attention


def self_attention(x: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor,
                   scale: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """One head without a mask: softmax(X W_q (X W_k)^T / sqrt(d_k)) X W_v for x (..., T, d), w_* (d, d_k).
    Returns (output (..., T, d_k), weights (..., T, T)); ``scale=False`` drops the 1/sqrt(d_k)."""
    if not (w_q.shape == w_k.shape == w_v.shape) or w_q.dim() != 2 or w_q.shape[0] != x.shape[-1]:
        raise ValueError(f"self_attention: w_q, w_k, w_v must all be (d, d_k) with d = x.shape[-1] = {x.shape[-1]}, "
                         f"got {tuple(w_q.shape)}, {tuple(w_k.shape)}, {tuple(w_v.shape)}")
    return dot_product_attention(x @ w_q, x @ w_k, x @ w_v, scale=scale)


def sinusoidal_positions(T: int, d: int, base: float = 10000.0) -> torch.Tensor:
    """(T, d) float32: PE[t, 2i] = sin(t w_i), PE[t, 2i+1] = cos(t w_i), w_i = base^(-2i/d); d must be even."""
    if T < 1 or d < 2 or d % 2:
        raise ValueError(f"sinusoidal_positions: need T >= 1 and an even d >= 2, got T={T}, d={d}")
    t = torch.arange(T, dtype=torch.float64)[:, None]
    w = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(t * w), torch.cos(t * w)
    return pe.float()


def softmax_entropy(weights: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of each row of ``weights`` (..., T): log T for uniform rows, 0 for one-hot rows."""
    return -(weights * torch.log(weights.clamp_min(1e-30))).sum(-1)


def softmax_jacobian_norm(weights: torch.Tensor) -> torch.Tensor:
    """Frobenius norm of the softmax's Jacobian diag(a) - a a^T for each row a of ``weights`` (..., T):
    how much the weights can still move when the scores move; 0 when a row is one-hot."""
    eye = torch.diag_embed(weights)
    return (eye - weights[..., :, None] * weights[..., None, :]).flatten(-2).norm(dim=-1)


def score_statistics(d_ks, T: int = 16, n: int = 2000, seed: int = 0) -> dict[str, np.ndarray]:
    """For each d_k: n queries and n x T keys with independent N(0, 1) entries; scores s = q . k (unscaled) or
    q . k / sqrt(d_k) (scaled). Returns arrays over d_ks: ``var_unscaled``, ``var_scaled`` (sample variances of s;
    theory d_k and 1), and for the softmax over the T keys of each query ``entropy_*`` (mean, nats),
    ``max_weight_*`` (mean largest weight) and ``jacobian_*`` (mean Frobenius norm of its Jacobian)."""
    d_ks = [int(d) for d in d_ks]
    if not d_ks or min(d_ks) < 1 or T < 2 or n < 2:
        raise ValueError(f"score_statistics: need d_ks >= 1, T >= 2 and n >= 2, got d_ks={d_ks}, T={T}, n={n}")
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {}
    for d in d_ks:
        q = torch.randn(n, 1, d, generator=gen, dtype=torch.float64)
        k = torch.randn(n, T, d, generator=gen, dtype=torch.float64)
        raw = (q * k).sum(-1)  # (n, T)
        for name, s in (("unscaled", raw), ("scaled", raw / math.sqrt(d))):
            a = torch.softmax(s, dim=-1)
            for key, value in ((f"var_{name}", s.var()), (f"entropy_{name}", softmax_entropy(a).mean()),
                               (f"max_weight_{name}", a.max(-1).values.mean()),
                               (f"jacobian_{name}", softmax_jacobian_norm(a).mean())):
                out.setdefault(key, []).append(float(value))
    return {key: np.array(v) for key, v in out.items()}


class LookBack(nn.Module):
    """Tokens (N, T) -> two sets of logits (N, T, V): for x_{t-1} and for x_{t-2}.

    h = E[x] + P[0..T-1]  (N, T, d);   z = causal multi-head self-attention(h)  (N, T, d)  (``SelfAttention``);
    logits_1 = R_1 z, logits_2 = R_2 z (linear). No residual and no MLP: all the read-outs know of the past is what
    attention copied into z, so the attention weights alone say where the model looks."""

    def __init__(self, vocab: int, d_model: int = 32, heads: int = 1, T: int = 8):
        super().__init__()
        if min(vocab, d_model, heads, T) < 1 or d_model % heads:
            raise ValueError(f"LookBack: sizes must be >= 1 and d_model a multiple of heads, got vocab={vocab}, "
                             f"d_model={d_model}, heads={heads}, T={T}")
        self.T = T
        self.embed, self.pos = nn.Embedding(vocab, d_model), nn.Embedding(T, d_model)
        self.attn = SelfAttention(d_model, heads)
        self.read = nn.ModuleList(nn.Linear(d_model, vocab) for _ in range(2))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 2 or x.shape[1] != self.T:
            raise ValueError(f"LookBack: expected tokens of shape (N, {self.T}), got {tuple(x.shape)}")
        z = self.attn(self.embed(x) + self.pos(torch.arange(self.T, device=x.device)))
        return self.read[0](z), self.read[1](z)


def attention_by_offset(weights: torch.Tensor, max_offset: int = 3) -> np.ndarray:
    """Mean attention weight on the position t - j, for j = 0..max_offset, over the rows t >= max_offset.
    weights (N, heads, T, T) -> (heads, max_offset + 1)."""
    if weights.dim() != 4 or weights.shape[-1] <= max_offset:
        raise ValueError(f"attention_by_offset: expected weights (N, heads, T, T) with T > {max_offset}, "
                         f"got {tuple(weights.shape)}")
    T = weights.shape[-1]
    rows = torch.arange(max_offset, T)
    return np.stack([weights[:, :, rows, rows - j].mean((0, 2)).numpy() for j in range(max_offset + 1)], -1)
