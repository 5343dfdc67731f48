"""Sequence to sequence (Sutskever et al.): a many-to-one encoder and a one-to-many decoder, with or without attention.

Encoder (many to one), over the source tokens x_1..x_S:

    e_s = GRU(E_src[x_s], e_{s-1})                    e_s: (N, H); all of them: enc (N, S, H)

Decoder (one to many), started from the encoder's last state h_0 = e_S, reading the previous output y_{t-1}:

    without attention:  h_t = GRU(E_tgt[y_{t-1}], h_{t-1});          logits_t = W_o h_t
    with attention:     a_t = softmax_s score(h_{t-1}, e_s)             (N, S), masked at padding, sums to 1
                        c_t = sum_s a_{t,s} e_s                         (N, H), the context
                        h_t = GRU([E_tgt[y_{t-1}]; c_t], h_{t-1});     logits_t = W_o [h_t; c_t]

score is Luong's "general" h^T W_a e (``attention="dot"``) or Bahdanau's additive v^T tanh(W_q h + W_k e)
(``attention="additive"``). Without attention everything the decoder knows about the source must pass through the
single vector e_S; with it, the decoder looks back at every e_s at every step.
Training uses teacher forcing (the decoder reads the true y_{t-1}); test time decodes greedily (argmax, fed back).
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from rnnbook.data.translation import BOS, EOS, PAD, Pairs

ATTENTION = (None, "dot", "additive")


def attend(scores: torch.Tensor, values: torch.Tensor,
           mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax over the last axis of ``scores`` (N, S) (``mask`` (N, S) True = keep), then the weighted sum of
    ``values`` (N, S, H). Returns (context (N, H), weights (N, S)); the weights sum to 1 over the kept positions."""
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("ns,nsh->nh", weights, values), weights


class Seq2Seq(nn.Module):
    """``forward(src (N, S), src_len (N,), tgt_in (N, T)) -> (logits (N, T, V_tgt), attention (N, T, S) or None)``."""

    def __init__(self, src_vocab: int, tgt_vocab: int, hidden: int = 128, embed: int = 64,
                 attention: str | None = None):
        super().__init__()
        if attention not in ATTENTION:
            raise ValueError(f"attention must be one of {ATTENTION}, got {attention!r}")
        if min(src_vocab, tgt_vocab, hidden, embed) < 1:
            raise ValueError(f"vocab sizes, hidden and embed must be >= 1, got {src_vocab}, {tgt_vocab}, {hidden}, "
                             f"{embed}")
        self.hidden, self.attention = hidden, attention
        self.src_embed = nn.Embedding(src_vocab, embed, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed, padding_idx=PAD)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        context = hidden if attention else 0
        self.decoder = nn.GRUCell(embed + context, hidden)
        if attention == "dot":
            self.W_a = nn.Linear(hidden, hidden, bias=False)
        elif attention == "additive":
            self.W_q, self.W_k = nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, hidden)
            self.v = nn.Linear(hidden, 1, bias=False)
        self.out = nn.Linear(hidden + context, tgt_vocab)

    def extra_repr(self) -> str:
        return f"attention={self.attention!r}, hidden={self.hidden}"

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(enc (N, S, H), the last real state e_S (N, H), mask (N, S)). Padding comes after the real tokens, so
        the unidirectional GRU's state at position src_len - 1 has seen exactly the sentence."""
        if src.dim() != 2 or src_len.shape != src.shape[:1]:
            raise ValueError(f"Seq2Seq: expected src (N, S) and src_len (N,), got {tuple(src.shape)} and "
                             f"{tuple(src_len.shape)}")
        enc, _ = self.encoder(self.src_embed(src))
        last = enc[torch.arange(src.shape[0]), src_len.long() - 1]
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < src_len[:, None]
        return enc, last, mask

    def keys(self, enc: torch.Tensor) -> torch.Tensor:
        """What the scores compare against, computed once per sentence: W_k e_s + b_k (additive) or e_s (dot)."""
        return self.W_k(enc) if self.attention == "additive" else enc

    def score(self, h: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Alignment scores (N, S) of the decoder state h (N, H) against every encoder position (``keys(enc)``)."""
        if self.attention == "dot":
            return torch.einsum("nh,nsh->ns", self.W_a(h), keys)
        return self.v(torch.tanh(self.W_q(h)[:, None, :] + keys)).squeeze(-1)

    def step(self, y_prev: torch.Tensor, h: torch.Tensor, enc: torch.Tensor, mask: torch.Tensor,
             keys: torch.Tensor | None = None):
        """One decoder step: (logits (N, V), h_t (N, H), attention weights (N, S) or None)."""
        e = self.tgt_embed(y_prev)
        if self.attention is None:
            h = self.decoder(e, h)
            return self.out(h), h, None
        keys = self.keys(enc) if keys is None else keys
        context, weights = attend(self.score(h, keys), enc, mask)
        h = self.decoder(torch.cat([e, context], dim=-1), h)
        return self.out(torch.cat([h, context], dim=-1)), h, weights

    def forward(self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor):
        enc, h, mask = self.encode(src, src_len)
        keys = self.keys(enc) if self.attention else None
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):  # teacher forcing: read the true previous token
            out, h, w = self.step(tgt_in[:, t], h, enc, mask, keys)
            logits.append(out)
            weights.append(w)
        return torch.stack(logits, 1), (torch.stack(weights, 1) if self.attention else None)

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, src_len: torch.Tensor, max_len: int = 16):
        """Greedy decoding: start from BOS, feed back the argmax, stop at EOS (or after ``max_len`` tokens).
        Returns (ids (N, L) without the BOS, attention (N, L, S) or None); positions after an EOS hold PAD."""
        was_training = self.training
        self.eval()
        enc, h, mask = self.encode(src, src_len)
        keys = self.keys(enc) if self.attention else None
        y = torch.full((src.shape[0],), BOS, dtype=torch.long, device=src.device)
        done = torch.zeros_like(y, dtype=torch.bool)
        ids, weights = [], []
        for _ in range(max_len):
            out, h, w = self.step(y, h, enc, mask, keys)
            y = out.argmax(-1).masked_fill(done, PAD)
            ids.append(y)
            weights.append(w)
            done |= y == EOS
            if bool(done.all()):
                break
        self.train(was_training)
        return torch.stack(ids, 1), (torch.stack(weights, 1) if self.attention else None)


def seq2seq_loss(model: Seq2Seq, pairs: Pairs, device: str | torch.device = "cpu") -> torch.Tensor:
    """Mean cross-entropy (nats per target token, padding skipped) under teacher forcing."""
    src, src_len, tgt = (torch.as_tensor(a, device=device) for a in (pairs.src, pairs.src_len, pairs.tgt))
    logits, _ = model(src, src_len, tgt[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1), ignore_index=PAD)
