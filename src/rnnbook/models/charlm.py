"""A character-level language model: embedding -> recurrent stack (``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``) -> linear.

At every step the model reads a character x_t and gives unnormalised log-probabilities (logits) for x_{t+1}:

    e_t = E[x_t]                       (E: vocab x embed)
    h_t = cell(e_t, h_{t-1})           (a stack of ``layers`` cells, each ``hidden`` wide)
    y_t = W_hy h_t + b_y               (logits over the vocabulary)

At test time it samples one character at a time and feeds it back in, as on the lecture's "hello" slide.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rnnbook.cells import StackedRNN, copy_from_torch

LMState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
RNN_LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def next_char_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """Probabilities of the next character from logits (..., V): softmax(logits / temperature) over the top k.

    ``temperature`` < 1 sharpens the distribution (safer, more repetitive text), > 1 flattens it (more surprises,
    more typos). ``top_k`` keeps the k most likely characters and renormalises; ``None`` keeps all.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}; use a small value such as 0.1 for near-greedy")
    scaled = logits.float() / temperature
    if top_k is not None:
        if not 1 <= top_k:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        k = min(top_k, scaled.shape[-1])
        kth = torch.topk(scaled, k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.softmax(scaled, dim=-1)


class CharLM(nn.Module):
    """Character language model. ``forward(x (N, T) int, state) -> (logits (N, T, V), state)``.

    ``state`` is what the recurrent stack carries between calls: for ``rnn``/``gru`` a tensor (layers, N, hidden),
    for ``lstm`` the pair (h, c). ``None`` starts from zeros.
    """

    def __init__(self, vocab_size: int, hidden: int = 256, layers: int = 1, cell: str = "lstm",
                 embed_dim: int | None = None, dropout: float = 0.0):
        super().__init__()
        if cell not in RNN_LAYERS:
            raise ValueError(f"cell must be one of {sorted(RNN_LAYERS)}, got {cell!r}")
        if vocab_size < 1 or hidden < 1 or layers < 1:
            raise ValueError(f"vocab_size, hidden and layers must be >= 1, got {vocab_size}, {hidden}, {layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.vocab_size, self.hidden, self.layers, self.cell = vocab_size, hidden, layers, cell
        embed_dim = embed_dim or hidden
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = RNN_LAYERS[cell](embed_dim, hidden, num_layers=layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, layers={self.layers}, hidden={self.hidden}, vocab_size={self.vocab_size}"

    def forward(self, x: torch.Tensor, state: LMState | None = None) -> tuple[torch.Tensor, LMState]:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"CharLM: x must be a tensor of character ids (N, T), got {type(x).__name__}; pass "
                            "torch.as_tensor(x)")
        if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"CharLM: expected character ids of shape (N, T), got {x.dtype} {tuple(x.shape)}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.vocab_size):
            raise ValueError(f"CharLM: x must hold character ids in [0, {self.vocab_size}) (vocab_size), got values "
                             f"from {int(x.min())} to {int(x.max())}; encode the text with the Vocab the model was "
                             "built for")
        h, state = self.rnn(self.embed_ids(x), state)
        return self.readout(h), state

    def embed_ids(self, x: torch.Tensor) -> torch.Tensor:
        """e_t = E[x_t]: character ids (N, T) -> the recurrent stack's inputs (N, T, embed)."""
        return self.drop(self.embed(x))

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        """y_t = W_hy h_t + b_y: the top layer's states (N, T, hidden) -> logits (N, T, V)."""
        return self.head(self.drop(h))

    def as_cells(self) -> StackedRNN:
        """The recurrent stack as ``rnnbook.cells`` (``LSTMCell`` or ``GRUCell(reset_after=True)``), with this
        model's weights: the same function, one written-out step at a time (``StackedRNN``), on the same device."""
        if self.cell == "rnn":
            raise ValueError("CharLM.as_cells: copies an 'lstm' or 'gru' stack; this model's cell is 'rnn'")
        options = {"reset_after": True} if self.cell == "gru" else {}
        runner = StackedRNN.of(self.cell, self.rnn.input_size, self.hidden, self.layers, **options)
        return copy_from_torch(runner, self.rnn).to(self.head.weight.device)

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> LMState:
        """Zeros of the right shape: (layers, N, hidden), or the (h, c) pair for an LSTM."""
        device = device or self.head.weight.device
        h = torch.zeros(self.layers, batch_size, self.hidden, device=device)
        return (h, h.clone()) if self.cell == "lstm" else h

    @torch.no_grad()
    def sample_ids(self, prime: Sequence[int] | np.ndarray, n: int, temperature: float = 1.0,
                   top_k: int | None = None, generator: torch.Generator | None = None) -> list[int]:
        """Read the ids ``prime`` (at least one), then draw ``n`` ids one at a time, feeding each back in."""
        prime = [int(i) for i in np.asarray(prime).ravel()]
        if not prime:
            raise ValueError("sampling needs a priming string of at least one character")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        was_training = self.training
        self.eval()
        device = self.head.weight.device
        logits, state = self(torch.tensor([prime], device=device))
        out: list[int] = []
        for _ in range(n):
            p = next_char_probs(logits[0, -1], temperature, top_k).cpu()
            nxt = int(torch.multinomial(p, 1, generator=generator))
            out.append(nxt)
            logits, state = self(torch.tensor([[nxt]], device=device), state)
        self.train(was_training)
        return out

    def sample(self, vocab, prime: str, n: int = 200, temperature: float = 1.0, top_k: int | None = None,
               seed: int | None = 0) -> str:
        """Text: ``prime`` followed by ``n`` sampled characters. ``vocab`` is an ``rnnbook.data.Vocab``."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return prime + vocab.decode(self.sample_ids(vocab.encode(prime), n, temperature, top_k, generator))
