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


from rnnbook.errors import DivergenceError  # noqa: F401  (raised here; defined without torch for the numpy code)


def _knobs(lr: float, clip_norm: float | None, clip_value: float | None) -> str:
    return (f"(lr={lr}, clip_norm={clip_norm}, clip_value={clip_value}): "
            "lower the learning rate or clip the gradients (clip_norm=1.0 or clip_value=5.0)")


class DivergenceWatch:
    """Stop a run whose loss stays far above where it started: ``patience`` updates in a row with a loss above
    ``factor`` times the first update's loss plus ``margin`` nats.

    A learning rate far too large rarely gives NaN at once: the weights jump to where the loss is hundreds of nats
    per token and stay there, while a healthy run's loss falls below its start within a few updates and never
    comes back to three times it. One update above the line (a spike) is no divergence; ``patience`` of them is.
    """

    def __init__(self, factor: float = 3.0, margin: float = 1.0, patience: int = 20):
        self.factor, self.margin, self.patience = factor, margin, patience
        self.limit: float | None = None
        self.above = 0

    def __call__(self, value: float, step: int, lr: float, clip_norm: float | None = None,
                 clip_value: float | None = None) -> None:
        if self.limit is None:
            self.limit = self.factor * value + self.margin
        self.above = self.above + 1 if value > self.limit else 0
        if self.above >= self.patience:
            raise DivergenceError(
                f"the loss stayed above {self.limit:.3g} ({self.factor:g} x its first value + {self.margin:g}) for "
                f"{self.above} updates, up to "
                f"{value:.4g} at step {step} {_knobs(lr, clip_norm, clip_value)}")


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
        raise DivergenceError(f"the loss became {value} at step {step} {_knobs(lr, clip_norm, clip_value)}")


def update(model: nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor, step: int, lr: float,
           clip_norm: float | None = None, clip_value: float | None = None, *, what: str = "the loss") -> float:
    """One update on ``loss``: check that it is finite (else ``DivergenceError``), backpropagate, clip, step.

    Returns the loss as a float. Every training loop of the package goes through here.
    """
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1 or not loss.requires_grad:
        got = (f"a tensor of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) and loss.numel() != 1
                else "a tensor that does not require grad" if isinstance(loss, torch.Tensor)
                else f"a {type(loss).__name__}")
        raise TypeError(f"{what} must be a scalar tensor computed from the model's parameters (so that it can be "
                        f"backpropagated), got {got}; return the tensor itself, not loss.item() or float(loss), "
                        "and do not compute it under torch.no_grad()")
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
        value = update(model, opt, step_loss(step), step, lr, clip_norm, clip_value,
                       what="step_loss(step) (the loss to minimise)")
        history.loss.append(value)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{value:.3f}")
    model.eval()
    return history
