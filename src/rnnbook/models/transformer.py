"""A small causal Transformer character model: attention instead of recurrence (Vaswani et al.).

Where an RNN carries a state h_t from step to step, a Transformer layer lets every position look directly at every
earlier position. For a block of T characters with vectors X (T, d) and one head of width d_k:

    Q = X W_q,  K = X W_k,  V = X W_v                      (T, d_k) each
    A = softmax(Q K^T / sqrt(d_k) + M)                     (T, T); M[t, s] = -inf for s > t (the causal mask)
    head(X) = A V                                          (T, d_k): row t mixes the values of positions <= t

A block is   X <- X + W_o [head_1(LN(X)); ...; head_n(LN(X))];   X <- X + MLP(LN(X))   (pre-norm, residual).
The model: X_0 = E[x] + P[0..T-1] (token and position embeddings), ``layers`` blocks, LN, linear read-out to logits.
All T positions are computed at once (matrix products over the whole block), with no step-to-step dependence;
the mask keeps it a valid language model: the output at t never sees characters after t.

``forward(x, state=None) -> (logits, None)`` has the CharLM signature, so ``rnnbook.tbptt.train_lm`` and
``evaluate`` train and score it unchanged; the returned state is ``None``: nothing is carried between blocks, the
context is at most ``block_size`` characters.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(T, T) bool, True where position t may look at position s (s <= t): the lower triangle with diagonal."""
    if T < 1:
        raise ValueError(f"causal_mask: T must be >= 1, got {T}")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                          scale: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v for q, k, v of shape (..., T, d_k), the scores set to -inf where ``mask``
    (T, T) bool is False; ``scale=False`` drops the 1/sqrt(d_k).
    Returns (output (..., T, d_k), weights (..., T, T)); each row of the weights sums to 1."""
    scores = q @ k.transpose(-2, -1)
    if scale:
        scores = scores / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k), masked to s <= t) v for q, k, v of shape (..., T, d_k)
    (``dot_product_attention`` with ``causal_mask``). Returns (output (..., T, d_k), weights (..., T, T))."""
    if not q.shape == k.shape == v.shape:
        raise ValueError(f"causal_attention: q, k, v must have the same shape, got {q.shape}, {k.shape}, {v.shape}")
    return dot_product_attention(q, k, v, causal_mask(q.shape[-2], q.device))


class SelfAttention(nn.Module):
    """Multi-head causal self-attention: (N, T, d) -> (N, T, d)."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
        self.heads = heads
        self.W_qkv = nn.Linear(d_model, 3 * d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.weights: torch.Tensor | None = None  # the last attention weights (N, heads, T, T), for plots

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, T, d = x.shape
        q, k, v = self.W_qkv(x).view(N, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out, weights = causal_attention(q, k, v)          # (N, heads, T, d_k)
        self.weights = weights.detach()
        return self.W_o(out.transpose(1, 2).reshape(N, T, d))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x)))
        return x + self.drop(self.mlp(self.ln2(x)))


class TinyTransformer(nn.Module):
    """Causal character model. ``forward(x (N, T) int, state ignored) -> (logits (N, T, V), None)``, T <= block_size."""

    def __init__(self, vocab_size: int, d_model: int = 128, layers: int = 2, heads: int = 4, block_size: int = 64,
                 dropout: float = 0.0):
        super().__init__()
        if min(vocab_size, d_model, layers, heads, block_size) < 1:
            raise ValueError(f"all sizes must be >= 1, got vocab_size={vocab_size}, d_model={d_model}, "
                             f"layers={layers}, heads={heads}, block_size={block_size}")
        self.vocab_size, self.block_size = vocab_size, block_size
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads, dropout) for _ in range(layers))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, state=None) -> tuple[torch.Tensor, None]:
        if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"TinyTransformer: expected character ids of shape (N, T), got {x.dtype} {tuple(x.shape)}")
        T = x.shape[1]
        if T > self.block_size:
            raise ValueError(f"TinyTransformer: a block of {T} characters is longer than block_size={self.block_size}; "
                             "cut the text into shorter chunks or build the model with a larger block_size")
        h = self.embed(x) + self.pos(torch.arange(T, device=x.device))
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h)), None

    @torch.no_grad()
    def sample(self, vocab, prime: str, n: int = 200, temperature: float = 1.0, seed: int | None = 0) -> str:
        """``prime`` followed by ``n`` sampled characters; the context is the last ``block_size`` characters."""
        from rnnbook.models.charlm import next_char_probs

        if not prime:
            raise ValueError("sampling needs a priming string of at least one character")
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        was_training = self.training
        self.eval()
        ids = list(vocab.encode(prime))
        device = self.head.weight.device
        for _ in range(n):
            context = torch.tensor([ids[-self.block_size:]], device=device)
            p = next_char_probs(self(context)[0][0, -1], temperature).cpu()
            ids.append(int(torch.multinomial(p, 1, generator=gen)))
        self.train(was_training)
        return prime + vocab.decode(ids[len(prime):])
