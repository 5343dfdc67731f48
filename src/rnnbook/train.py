"""The training loop: a fixed number of steps of a loss a chapter defines, with clipping and a progress bar.

The chapter says *what* one step computes (``step_loss``); this loop does the rest the same way everywhere:
zero the gradients, backward, clip, update, watch for divergence, record the loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn


class DivergenceError(RuntimeError):
    """The loss became NaN or inf."""


@dataclass
class History:
    """Loss per step (and whatever a chapter records beside it)."""

    loss: list[float] = field(default_factory=list)

    @property
    def final(self) -> float:
        """Mean loss over the last 10 % of the steps (at least one)."""
        tail = self.loss[-max(1, len(self.loss) // 10) :]
        return sum(tail) / len(tail)


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """``"adam"``, ``"adagrad"`` or ``"sgd"``."""
    optimizers = {"adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad, "sgd": torch.optim.SGD}
    if name not in optimizers:
        raise ValueError(f"optimizer must be one of {sorted(optimizers)}, got {name!r}")
    return optimizers[name](params, lr=lr)


def clip_gradients(model: nn.Module, clip_norm: float | None = None, clip_value: float | None = None) -> float:
    """Clip by global norm and/or element-wise value; return the gradient norm before clipping."""
    params = [p for p in model.parameters() if p.grad is not None]
    norm = float(torch.linalg.vector_norm(torch.stack([p.grad.detach().norm() for p in params]))) if params else 0.0
    if clip_value is not None:
        nn.utils.clip_grad_value_(params, clip_value)
    if clip_norm is not None:
        nn.utils.clip_grad_norm_(params, clip_norm)
    return norm


def check_finite(value: float, step: int, lr: float, clip_norm: float | None, clip_value: float | None) -> None:
    """Raise ``DivergenceError`` when a loss is NaN or inf; the message names the knobs to turn."""
    if not math.isfinite(value):
        raise DivergenceError(
            f"the loss became {value} at step {step} (lr={lr}, clip_norm={clip_norm}, clip_value={clip_value}): "
            "lower the learning rate or clip the gradients (clip_norm=1.0 or clip_value=5.0)"
        )


def update(model: nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor, step: int, lr: float,
           clip_norm: float | None = None, clip_value: float | None = None) -> float:
    """One update on ``loss``: check that it is finite (else ``DivergenceError``), backpropagate, clip, step.

    Returns the loss as a float. Every training loop of the package goes through here.
    """
    value = float(loss.detach())
    check_finite(value, step, lr, clip_norm, clip_value)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    clip_gradients(model, clip_norm, clip_value)
    opt.step()
    return value


def fit(
    model: nn.Module,
    step_loss: Callable[[int], torch.Tensor],
    steps: int,
    lr: float = 1e-2,
    optimizer: str = "adam",
    clip_norm: float | None = 1.0,
    clip_value: float | None = None,
    progress: bool = True,
    desc: str = "train",
) -> History:
    """Minimise ``step_loss(step)`` (a scalar tensor built from a fresh batch) for ``steps`` updates.

    Raises ``DivergenceError`` when the loss becomes NaN or inf, naming the knobs to turn.
    """
    from tqdm.auto import tqdm

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    opt = make_optimizer(optimizer, model.parameters(), lr)
    history = History()
    model.train()
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=1.0)
    for step in bar:
        value = update(model, opt, step_loss(step), step, lr, clip_norm, clip_value)
        history.loss.append(value)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{value:.3f}")
    model.eval()
    return history
