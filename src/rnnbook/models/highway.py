"""Deep feed-forward stacks for the gradient-flow analogy: plain, residual and highway layers.

All three share the transform H(x) = tanh(W_H x + b_H) (x: (B, n), W_H: (n, n)):

- plain:    y = H(x)
- residual: y = x + H(x)                                  [He et al. 2016]
- highway:  y = g * H(x) + (1 - g) * x,  g = sigmoid(W_T x + b_T)   [Srivastava et al. 2015]

The residual and highway layers add an identity path, like the LSTM's cell state c_t = f * c_{t-1} + i * g:
dy/dx contains I (residual) or diag(1 - g) (highway), so the gradient need not pass through W_H.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

LayerKind = Literal["plain", "residual", "highway"]
LAYER_KINDS: tuple[str, ...] = ("plain", "residual", "highway")


class PlainLayer(nn.Module):
    """y = tanh(W_H x + b_H); x, y: (B, n)."""

    def __init__(self, n: int):
        super().__init__()
        self.transform = nn.Linear(n, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.transform(x))


class ResidualLayer(PlainLayer):
    """y = x + tanh(W_H x + b_H); x, y: (B, n)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.tanh(self.transform(x))


class Highway(nn.Module):
    """y = g * H(x) + (1 - g) * x with H(x) = tanh(W_H x + b_H), g = sigmoid(W_T x + b_T); x, y: (B, n).

    ``gate_bias`` initialises b_T; a negative value (Srivastava et al. use -1 to -3) starts every layer close to
    carrying its input through (g ~ sigmoid(gate_bias)), which is what lets very deep stacks train.
    """

    def __init__(self, n: int, gate_bias: float = -2.0):
        super().__init__()
        self.n = n
        self.transform = nn.Linear(n, n)
        self.gate = nn.Linear(n, n)
        with torch.no_grad():
            self.gate.bias.fill_(gate_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.n:
            raise ValueError(f"Highway: x must have shape (..., {self.n}), got {tuple(x.shape)}")
        g = torch.sigmoid(self.gate(x))
        return g * torch.tanh(self.transform(x)) + (1 - g) * x


def deep_stack(kind: LayerKind, depth: int, width: int, gate_bias: float = -2.0) -> nn.ModuleList:
    """``depth`` layers of one kind (``"plain"``, ``"residual"`` or ``"highway"``), PyTorch's default init.

    Returned as a ``ModuleList`` so that every layer's output can be inspected; apply the layers in order.
    """
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1, got depth={depth}, width={width}")
    if kind == "plain":
        return nn.ModuleList(PlainLayer(width) for _ in range(depth))
    if kind == "residual":
        return nn.ModuleList(ResidualLayer(width) for _ in range(depth))
    if kind == "highway":
        return nn.ModuleList(Highway(width, gate_bias) for _ in range(depth))
    raise ValueError(f"kind must be one of {LAYER_KINDS}, got {kind!r}")
