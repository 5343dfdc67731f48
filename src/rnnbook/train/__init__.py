"""The training loop: updates of a loss a caller defines, with a learning-rate schedule, clipping, a divergence
check, a progress bar and optional checkpoints.

The caller says *what* one step computes (``step_loss(step)``, a scalar tensor); ``fit`` does the rest the same
way everywhere: set the learning rate, zero the gradients, backward, clip, update, watch for divergence, record
the loss. Truncated BPTT (``rnnbook.tbptt.train_lm``) and the task trainers (``rnnbook.train.tasks``) build on it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from rnnbook.errors import DivergenceError  # noqa: F401  (raised here; defined without torch for the numpy code)
from rnnbook.train.checkpoint import save_checkpoint

SCHEDULES = ("constant", "cosine", "linear")


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


def lr_factor(progress: float, schedule: str = "constant", warmup: float = 0.0, floor: float = 0.0) -> float:
    """Multiplier of the learning rate at ``progress`` in [0, 1] of the run: linear warm-up over the first
    ``warmup`` fraction, then constant, or a decay from 1 to ``floor``:

        cosine: floor + (1 - floor) * (1 + cos(pi r)) / 2       linear: floor + (1 - floor) * (1 - r)

    with r = (progress - warmup) / (1 - warmup) the fraction of the decay done."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"floor must be a fraction of the learning rate in [0, 1], got {floor}")
    progress = min(max(progress, 0.0), 1.0)
    if warmup > 0 and progress < warmup:
        return (progress + 1e-3) / warmup
    if schedule == "constant":
        return 1.0
    rest = (progress - warmup) / max(1e-9, 1.0 - warmup)
    decay = 0.5 * (1.0 + math.cos(math.pi * rest)) if schedule == "cosine" else 1.0 - rest
    return decay if floor == 0.0 else floor + (1.0 - floor) * decay


def check_run(steps: int | None, time_budget: float | None, lr: float, warmup: float) -> None:
    """ValueError, naming the argument, for a run of no length, a learning rate that is not a number > 0 or a
    warm-up that is not a fraction of the run."""
    if steps is None and time_budget is None:
        raise ValueError("give steps (number of updates), time_budget (seconds), or both")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if time_budget is not None and not time_budget > 0:
        raise ValueError(f"time_budget must be a number of seconds > 0, got {time_budget}; leave it None to stop "
                         "after steps updates")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if not 0.0 <= warmup < 1.0:
        raise ValueError(f"warmup must be a fraction of the run in [0, 1), got {warmup}")


def fit(
    model: nn.Module,
    step_loss: Callable[[int], torch.Tensor],
    steps: int | None = None,
    lr: float = 1e-2,
    optimizer: str | torch.optim.Optimizer = "adam",
    clip_norm: float | None = 1.0,
    clip_value: float | None = None,
    progress: bool = True,
    desc: str = "train",
    *,
    params: Iterable[nn.Parameter] | None = None,
    schedule: str = "constant",
    warmup: float = 0.0,
    final_lr: float = 0.0,
    watch: DivergenceWatch | None = None,
    time_budget: float | None = None,
    start: int = 0,
    history: History | None = None,
    on_update: Callable[[int, History], None] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    clock: Callable[[], float] | None = None,
) -> History:
    """Minimise ``step_loss(step)`` (a scalar tensor built from a fresh batch) for ``steps`` updates and/or
    ``time_budget`` seconds (whichever ends first).

    Update ``step`` runs at ``lr * lr_factor(progress, schedule, warmup, final_lr)``, progress = step / steps (or
    the share of the time budget spent, when that is larger), with the gradients clipped by global norm
    (``clip_norm``) and/or element-wise (``clip_value``). ``optimizer`` is ``"adam"``, ``"adagrad"``, ``"sgd"``
    (built over ``params``, default all of the model's) or an optimizer already built. A NaN or inf loss raises
    ``DivergenceError`` naming the knobs to turn; so does ``watch`` (a ``DivergenceWatch``) when the loss stays far
    above its start. The watch is off by default: "three times the first loss" is a test for a cross-entropy, not
    for a loss of any scale; the cross-entropy trainers turn it on.
    ``on_update(step, history)`` runs after every update (``step`` updates done). ``checkpoint`` is written with
    ``rnnbook.train.checkpoint.save_checkpoint`` every ``checkpoint_every`` updates and at the end. ``start`` and
    ``history`` continue a run stopped after ``start`` updates; ``clock()`` returns the seconds the run has lasted
    (default: since this call). The model is in train mode during the run and in eval mode after it.
    """
    from tqdm.auto import tqdm

    check_run(steps, time_budget, lr, warmup)
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1 (updates between two) or None, got {checkpoint_every}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if not 0.0 <= final_lr <= 1.0:
        raise ValueError(f"final_lr must be a fraction of lr in [0, 1], got {final_lr}")
    opt = (optimizer if isinstance(optimizer, torch.optim.Optimizer)
           else make_optimizer(optimizer, model.parameters() if params is None else params, lr))
    history = History() if history is None else history
    model.train()
    t0 = time.perf_counter()
    clock = clock or (lambda: time.perf_counter() - t0)
    bar = tqdm(total=steps, initial=start, desc=desc, disable=not progress, mininterval=1.0)
    step, smooth = start, None
    while steps is None or step < steps:
        elapsed = clock()
        if time_budget is not None and elapsed >= time_budget:
            break
        fraction = max(step / steps if steps else 0.0, elapsed / time_budget if time_budget else 0.0)
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(fraction, schedule, warmup, final_lr)
        value = update(model, opt, step_loss(step), step, lr, clip_norm, clip_value,
                       what="step_loss(step) (the loss to minimise)")
        if watch is not None:
            watch(value, step, lr, clip_norm, clip_value)  # a loss far above its start for many updates: diverged
        history.loss.append(value)
        step += 1
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{smooth:.3f}", refresh=False)
        if on_update is not None:
            on_update(step, history)
        if checkpoint is not None and checkpoint_every and step % checkpoint_every == 0:
            save_checkpoint(checkpoint, model, opt, step)
    bar.close()
    if checkpoint is not None:
        save_checkpoint(checkpoint, model, opt, step)
    model.eval()
    return history

