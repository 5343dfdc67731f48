"""A recurrent tagger, unidirectional or bidirectional: one tag per input step.

    forward:   h→_t = GRU(x_t, h→_{t-1})      t = 1 .. T      (reads x_1 .. x_t)
    backward:  h←_t = GRU'(x_t, h←_{t+1})     t = T .. 1      (reads x_t .. x_T)
    output:    y_t  = W_y [h→_t ; h←_t] + b_y                  (sees the whole sequence)

The unidirectional tagger keeps only h→_t, so its tag at step t depends on x_1 .. x_t alone.
"""

from __future__ import annotations

import torch
from torch import nn


class RecurrentTagger(nn.Module):
    """Embedding (vocab -> hidden) -> forward GRU [+ backward GRU] -> linear read-out of every step.

    ``forward(x)``: x (B, T) integer symbols -> logits (B, T, n_classes). With ``bidirectional=True`` a second
    GRU (``self.backward_rnn``) reads the sequence reversed in time; its states are flipped back so that
    h←_t sits beside h→_t, and the read-out sees their concatenation (2 * hidden features).
    """

    def __init__(self, vocab: int, n_classes: int, hidden: int, bidirectional: bool = False):
        super().__init__()
        for name, value in (("vocab", vocab), ("n_classes", n_classes), ("hidden", hidden)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"RecurrentTagger: {name} must be a positive int, got {value!r}")
        self.bidirectional = bool(bidirectional)
        self.embed = nn.Embedding(vocab, hidden)
        self.forward_rnn = nn.GRU(hidden, hidden, batch_first=True)
        self.backward_rnn = nn.GRU(hidden, hidden, batch_first=True) if self.bidirectional else None
        self.head = nn.Linear(2 * hidden if self.bidirectional else hidden, n_classes)

    def states(self, x: torch.Tensor) -> torch.Tensor:
        """[h→_t ; h←_t] (B, T, 2H), or h→_t (B, T, H) when unidirectional."""
        if x.ndim != 2:
            raise ValueError(f"RecurrentTagger: x must be (B, T) integer symbols, got shape {tuple(x.shape)}")
        e = self.embed(x)
        h_fwd, _ = self.forward_rnn(e)
        if self.backward_rnn is None:
            return h_fwd
        h_bwd, _ = self.backward_rnn(e.flip(1))  # reads x_T first
        return torch.cat([h_fwd, h_bwd.flip(1)], dim=-1)  # flip back: h←_t beside h→_t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.states(x))
