"""The computational graphs of the lecture as small PyTorch models, each around one Elman RNN (``nn.RNN``).

- ``ManyToOne``:  read x_1..x_T, classify from the last state h_T        (sentiment classification)
- ``ManyToMany``: read x_t, emit y_t at every step                       (tagging, video frames)
- ``OneToMany``:  one input vector sets h_0, then emit y_1..y_T          (image captioning)
- ``EncoderDecoder``: many-to-one encoder, then a one-to-many decoder       (machine translation)

Inputs are integer symbols, embedded; outputs are unnormalised scores (logits).
"""

from __future__ import annotations

import torch
from torch import nn


def _check_tokens(name: str, x: torch.Tensor, ndim: int) -> None:
    if x.dim() != ndim or x.dtype not in (torch.int64, torch.int32):
        want = "(N, T)" if ndim == 2 else "(N,)"
        raise ValueError(f"{name}: expected integer symbols of shape {want}, got {x.dtype} {tuple(x.shape)}")


class ManyToOne(nn.Module):
    """y = W_hy h_T: one label for a whole sequence. x (N, T) -> logits (N, n_classes)."""

    def __init__(self, vocab: int, n_classes: int, hidden: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.RNN(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tokens("ManyToOne", x, 2)
        h, _ = self.rnn(self.embed(x))
        return self.head(h[:, -1])


class ManyToMany(nn.Module):
    """y_t = W_hy h_t at every step. x (N, T) -> logits (N, T, n_classes)."""

    def __init__(self, vocab: int, n_classes: int, hidden: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.RNN(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_tokens("ManyToMany", x, 2)
        h, _ = self.rnn(self.embed(x))
        return self.head(h)


class OneToMany(nn.Module):
    """h_0 = W_ih v from one input, then T steps, each fed the previous output symbol.

    v (N,) symbols -> logits (N, T, vocab). Training feeds the true previous symbol (teacher forcing);
    ``generate`` feeds back the model's own choice.
    """

    def __init__(self, n_inputs: int, vocab: int, hidden: int = 32):
        super().__init__()
        self.init = nn.Embedding(n_inputs, hidden)  # W_ih v for a one-hot v
        self.embed = nn.Embedding(vocab + 1, hidden)  # + a <start> symbol
        self.rnn = nn.RNN(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        self.start = vocab

    def forward(self, v: torch.Tensor, y_prev: torch.Tensor) -> torch.Tensor:
        _check_tokens("OneToMany", v, 1)
        h0 = torch.tanh(self.init(v)).unsqueeze(0)
        start = torch.full_like(y_prev[:, :1], self.start)
        h, _ = self.rnn(self.embed(torch.cat([start, y_prev[:, :-1]], dim=1)), h0)
        return self.head(h)

    @torch.no_grad()
    def generate(self, v: torch.Tensor, T: int) -> torch.Tensor:
        _check_tokens("OneToMany.generate", v, 1)
        h = torch.tanh(self.init(v)).unsqueeze(0)
        token, out = torch.full_like(v, self.start), []
        for _ in range(T):
            o, h = self.rnn(self.embed(token).unsqueeze(1), h)
            token = self.head(o[:, 0]).argmax(-1)
            out.append(token)
        return torch.stack(out, dim=1)


class EncoderDecoder(nn.Module):
    """Encoder (many-to-one) summarises x in h_T; the decoder (one-to-many) starts from it.

    x (N, T_in), y (N, T_out) -> logits (N, T_out, vocab) with teacher forcing; ``generate`` decodes greedily.
    """

    def __init__(self, vocab: int, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab + 1, hidden)  # + a <start> symbol for the decoder
        self.encoder = nn.RNN(hidden, hidden, batch_first=True)
        self.decoder = nn.RNN(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        self.start = vocab

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_tokens("EncoderDecoder", x, 2)
        _, h_T = self.encoder(self.embed(x))
        start = torch.full_like(y[:, :1], self.start)
        h, _ = self.decoder(self.embed(torch.cat([start, y[:, :-1]], dim=1)), h_T)
        return self.head(h)

    @torch.no_grad()
    def generate(self, x: torch.Tensor, T: int) -> torch.Tensor:
        _check_tokens("EncoderDecoder.generate", x, 2)
        _, h = self.encoder(self.embed(x))
        token, out = torch.full_like(x[:, 0], self.start), []
        for _ in range(T):
            o, h = self.decoder(self.embed(token).unsqueeze(1), h)
            token = self.head(o[:, 0]).argmax(-1)
            out.append(token)
        return torch.stack(out, dim=1)
