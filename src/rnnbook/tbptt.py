"""Truncated backpropagation through time (TBPTT) for language models and other many-to-many streams.

The lecture: "run forward and backward through chunks of the sequence instead of the whole sequence; carry hidden
states forward in time forever, but only backpropagate for some smaller number of steps". A stream of ``batch_size``
contiguous rows is cut into chunks of ``k = seq_len`` steps (``rnnbook.data.tbptt_batches``); the hidden state at
the end of one chunk is the initial state of the next, but *detached*: its value flows on, its gradient stops.
That one line, ``state = detach_state(state)`` in ``train_lm``, is the truncation.

A model here is any ``nn.Module`` with ``model(x (N, T) int, state) -> (logits (N, T, V), state)`` whose ``state``
``None`` means zeros, e.g. ``rnnbook.models.charlm.CharLM``. Targets equal to ``IGNORE`` (-100) are not scored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnbook.data.streams import tbptt_batches
from rnnbook.env import check_device, get_device
from rnnbook.train import DivergenceWatch, History, make_optimizer, update

from rnnbook.data.sequences import IGNORE  # the target of a step with no label
Chunk = tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]
Stream = Callable[[], Iterable[Chunk]]  # one pass over the data; called again for the next pass (epoch)
SCHEDULES = ("constant", "cosine", "linear")


def detach_state(state):
    """The truncation: the same values, cut from the graph that made them (a tensor, a tuple of them, or None)."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(detach_state(s) for s in state)


def text_stream(ids: np.ndarray, batch_size: int, seq_len: int) -> Stream:
    """A ``Stream`` over a 1-D array of ids: contiguous rows, chunks of ``seq_len`` steps, next-id targets."""
    ids = np.asarray(ids)
    next(iter(tbptt_batches(ids, batch_size, seq_len)))  # validate the sizes now, not at the first step
    return lambda: tbptt_batches(ids, batch_size, seq_len)


def lm_loss(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy in nats of logits (N, T, V) against targets (N, T); targets equal to ``IGNORE`` are skipped."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE,
                           reduction=reduction)


def _as_long(a, device: str | torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a, dtype=torch.long).to(device)


@dataclass(frozen=True)
class Evaluation:
    """Mean cross-entropy over ``count`` scored targets, in nats; ``bits`` per character = nats / ln 2."""

    nats: float
    accuracy: float
    count: int

    @property
    def bits(self) -> float:
        return self.nats / math.log(2)

    @property
    def perplexity(self) -> float:
        return math.exp(self.nats)

    def __str__(self) -> str:
        return f"{self.nats:.4f} nats/char = {self.bits:.4f} bits/char (accuracy {self.accuracy:.3f}, n={self.count})"


@torch.no_grad()
def evaluate(model: nn.Module, chunks: Iterable[Chunk] | Stream, carry_state: bool = True,
             device: str | torch.device | None = None) -> Evaluation:
    """Mean loss (nats) and top-1 accuracy over one pass of ``chunks``, carrying the state across them."""
    device = next(model.parameters()).device if device is None else check_device(device, "device")
    chunks = chunks() if callable(chunks) else chunks
    was_training = model.training
    model.eval()
    total, correct, count, state = 0.0, 0, 0, None
    for x, y in chunks:
        x, y = _as_long(x, device), _as_long(y, device)
        logits, state = model(x, state if carry_state else None)
        total += float(lm_loss(logits, y, reduction="sum"))
        scored = y != IGNORE
        correct += int((logits.argmax(-1) == y)[scored].sum())
        count += int(scored.sum())
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the chunks held no scored targets; pass a longer stream")
    return Evaluation(total / count, correct / count, count)


def evaluate_text(model: nn.Module, ids: np.ndarray, batch_size: int = 16, seq_len: int = 256,
                  device: str | torch.device | None = None) -> Evaluation:
    """Validation loss of a language model on a 1-D array of ids (cut into ``batch_size`` contiguous rows)."""
    return evaluate(model, tbptt_batches(np.asarray(ids), batch_size, seq_len), device=device)


@dataclass
class LMHistory(History):
    """Training loss per update (``loss``), validation results ``val`` as (step, Evaluation), time and volume."""

    val: list[tuple[int, Evaluation]] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    tokens: int = 0


class CheckpointError(ValueError):
    """A file that is not an rnnbook checkpoint, or one written for another model, optimizer or batch size."""


def _about(model: nn.Module, optimizer: torch.optim.Optimizer | None, meta: dict) -> dict:
    """What a checkpoint needs to be checked on load: model kind and sizes, optimizer, vocabulary, version."""
    from rnnbook import __version__

    sizes = {k: getattr(model, k) for k in ("vocab_size", "hidden", "layers", "cell")
             if isinstance(getattr(model, k, None), (int, str))}  # plain values only: weights_only must load it
    return {"model": type(model).__name__, "sizes": sizes,
            "optimizer": type(optimizer).__name__ if optimizer is not None else None,
            "vocab_size": getattr(model, "vocab_size", None), "rnnbook": __version__,
            "batch_size": meta.get("batch_size")}


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    step: int = 0, state=None, **meta) -> Path:
    """Save weights, optimizer state, step, carried hidden state and RNG state: tensors and plain Python only,
    so that ``load_checkpoint`` can read it with ``torch.load(..., weights_only=True)``.

    ``meta`` (plain values, e.g. ``vocab="..."``) is stored as is. The entry ``"rnnbook"`` records what
    ``load_checkpoint`` checks: the model's class and sizes, the optimizer's class, the vocabulary size, the batch
    size (``meta["batch_size"]`` when given) and the rnnbook version.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = detach_state(state)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer else None,
                "step": int(step), "state": list(state) if isinstance(state, tuple) else state,
                "rng": torch.get_rng_state(), "meta": meta, "rnnbook": _about(model, optimizer, meta)}, path)
    return path


def _not_a_checkpoint(path: Path, why: str) -> CheckpointError:
    return CheckpointError(
        f"{path} is not a checkpoint written by rnnbook's save_checkpoint ({why}). Pass the path of a file that "
        "train_lm(checkpoint=...) or save_checkpoint wrote. Never load a file you do not trust with "
        "torch.load(..., weights_only=False): unpickling it can run any code the file holds.")


def _check_compatible(path: Path, ckpt: dict, model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
    about = ckpt.get("rnnbook") if isinstance(ckpt.get("rnnbook"), dict) else {}
    if about.get("model") and about["model"] != type(model).__name__:
        raise CheckpointError(f"{path} holds a {about['model']}, but model is a {type(model).__name__}; "
                              f"load it into a {about['model']} built with the same sizes {about.get('sizes', {})}")
    mine = about.get("sizes", {})
    here = {k: getattr(model, k) for k in mine if hasattr(model, k)}
    if mine and here != mine:
        diff = ", ".join(f"{k}={mine[k]!r} (model: {here.get(k)!r})" for k in mine if here.get(k) != mine[k])
        raise CheckpointError(f"{path} was written for a model with {diff}; build the model with the "
                              "checkpoint's sizes (the vocabulary of the text it was trained on) to load it")
    saved, wanted = ckpt["model"], model.state_dict()
    missing, extra = sorted(set(wanted) - set(saved)), sorted(set(saved) - set(wanted))
    shapes = [f"{k} is {tuple(saved[k].shape)} in the checkpoint, {tuple(v.shape)} in the model"
              for k, v in wanted.items() if k in saved and tuple(saved[k].shape) != tuple(v.shape)]
    if missing or extra or shapes:
        parts = ([f"missing weights {missing[:4]}"] if missing else []) + (
            [f"unexpected weights {extra[:4]}"] if extra else []) + shapes[:4]
        raise CheckpointError(f"{path} does not fit model: {'; '.join(parts)}. Build the model with the sizes the "
                              "checkpoint was trained with")
    kind = about.get("optimizer")
    if optimizer is not None and ckpt.get("optimizer") is not None:
        if kind and kind != type(optimizer).__name__:
            raise CheckpointError(f"{path} was trained with the optimizer {kind}, but optimizer is a "
                                  f"{type(optimizer).__name__}; resume with optimizer={kind.lower()!r}, or start "
                                  "afresh (resume=False)")


def load_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    map_location: str | torch.device | None = None) -> dict:
    """Load a checkpoint written by ``save_checkpoint`` into ``model`` (and ``optimizer``); return the dict.

    ``weights_only=True``: the file can only hold tensors and plain containers, never code to run. A file that is
    not such a checkpoint (a text file, a pickle, a bare ``state_dict``) and one written for another model class,
    other sizes or another optimizer raise ``CheckpointError`` saying what differs; another rnnbook version is
    only a warning.
    """
    import pickle
    import warnings

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train with checkpoint={str(path)!r} first")
    device = map_location or next(model.parameters()).device
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, AttributeError, ImportError,
            TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _not_a_checkpoint(path, f"torch.load refused it: {first[:160]}") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "step" not in ckpt:
        what = (f"a {type(ckpt).__name__}" if not isinstance(ckpt, dict)
                else "a dict of tensors, a bare state_dict? Load that with model.load_state_dict(torch.load(path, "
                     "weights_only=True))" if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values())
                else f"a dict without 'model' and 'step', keys {sorted(map(str, ckpt))[:6]}")
        raise _not_a_checkpoint(path, f"it holds {what}")
    _check_compatible(path, ckpt, model, optimizer)
    about = ckpt.get("rnnbook") or {}
    from rnnbook import __version__

    if about.get("rnnbook") not in (None, __version__):
        warnings.warn(f"{path} was written by rnnbook {about['rnnbook']}, this is {__version__}", stacklevel=2)
    model.load_state_dict(ckpt["model"])
    if optimizer is not None and ckpt.get("optimizer") is not None:
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
        except (KeyError, ValueError) as err:
            raise CheckpointError(f"{path}: the optimizer's saved state does not fit optimizer "
                                  f"{type(optimizer).__name__} ({type(err).__name__}: {err}); resume with the "
                                  "optimizer and parameters the checkpoint was trained with, or start afresh "
                                  "(resume=False)") from None
    if isinstance(ckpt.get("state"), list):
        ckpt["state"] = tuple(ckpt["state"])
    return ckpt


def lr_factor(progress: float, schedule: str = "constant", warmup: float = 0.0) -> float:
    """Multiplier of the learning rate at ``progress`` in [0, 1] of the run: linear warm-up over the first
    ``warmup`` fraction, then constant, cosine decay to 0, or linear decay to 0."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    progress = min(max(progress, 0.0), 1.0)
    if warmup > 0 and progress < warmup:
        return (progress + 1e-3) / warmup
    if schedule == "constant":
        return 1.0
    rest = (progress - warmup) / max(1e-9, 1.0 - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * rest)) if schedule == "cosine" else 1.0 - rest


def _passes(stream: Stream) -> Iterator[tuple[Chunk, bool]]:
    """Endless chunks: one pass after the other, each chunk flagged when it starts a new pass."""
    while True:
        first = True
        for chunk in stream():
            yield chunk, first
            first = False
        if first:
            raise ValueError("the stream yielded no chunks; is the text shorter than batch_size * 2?")


def train_lm(
    model: nn.Module,
    stream: Stream,
    steps: int | None = None,
    *,
    time_budget: float | None = None,
    lr: float = 3e-3,
    optimizer: str | torch.optim.Optimizer = "adam",
    clip_norm: float | None = 1.0,
    clip_value: float | None = None,
    carry_state: bool = True,
    schedule: str = "constant",
    warmup: float = 0.0,
    val: Stream | None = None,
    eval_every: int | None = None,
    callback: Callable[[int, nn.Module], None] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool | str = False,
    device: str | torch.device | None = None,
    progress: bool = True,
    desc: str = "train",
    resume_at: tuple[int, object] | None = None,
    on_update: Callable[[int, LMHistory, object], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> LMHistory:
    """Train ``model`` on the chunks of ``stream`` with truncated BPTT for ``steps`` updates and/or ``time_budget``
    seconds (whichever ends first).

    Each update: forward one chunk of k = seq_len steps from the carried (detached) state, loss in nats,
    backward through those k steps only, clip (``clip_norm`` on the global norm and/or ``clip_value`` element-wise),
    one ``optimizer`` step (``"adam"``, ``"adagrad"``, ``"sgd"``) at ``lr`` times the ``schedule`` factor
    (``lr_factor``; with a ``time_budget`` the schedule follows the elapsed time).
    ``carry_state=False`` starts every chunk from zeros instead (no context beyond the chunk).
    A new pass over the data starts from zeros. ``val`` (a Stream) is evaluated every ``eval_every`` updates and
    at the end, and ``callback(step, model)`` is called at the same moments (e.g. to draw samples).
    ``checkpoint`` is written every ``checkpoint_every`` updates and at the end; ``resume=True`` continues
    from it (weights, optimizer, step, carried state, position in the stream); with no checkpoint there,
    ``resume=True`` is a FileNotFoundError (a run asked to continue never silently starts again), while
    ``resume="auto"`` continues when the checkpoint exists and starts from scratch otherwise. A checkpoint of
    another model, optimizer or batch size is a ``CheckpointError``. A NaN or inf loss, or a loss that stays above
    three times its first value (``rnnbook.train.DivergenceWatch``), raises ``rnnbook.train.DivergenceError``
    naming the learning rate and clipping.

    Hooks for a caller that keeps its own checkpoints (``rnnbook.charlm``): ``optimizer`` may be an optimizer
    already built (and restored) by the caller; ``resume_at=(step, state)`` continues a run stopped after ``step``
    updates with carried state ``state`` (the caller restored weights, optimizer and RNG); ``on_update(step,
    history, state)`` is called after every update; ``clock()`` returns the seconds the run has lasted (default:
    since this call), for the time budget and the schedule.
    """
    from tqdm.auto import tqdm

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
    for name, every in (("eval_every", eval_every), ("checkpoint_every", checkpoint_every)):
        if every is not None and every < 1:
            raise ValueError(f"{name} must be >= 1 (updates between two) or None, got {every}")
    if not callable(stream):
        raise TypeError(f"stream must be a function that returns an iterable of (x, y) chunks (one pass over the "
                        f"data), e.g. text_stream(ids, batch_size, seq_len); got {type(stream).__name__}")
    if resume not in (True, False, "auto"):
        raise ValueError(f"resume must be True, False or 'auto', got {resume!r}")
    if resume and checkpoint is None:
        raise ValueError("resume needs checkpoint=<path of the checkpoint to continue from>")
    if resume is True and not Path(checkpoint).is_file():
        raise FileNotFoundError(f"resume=True, but there is no checkpoint at {checkpoint}; pass resume='auto' to "
                                "continue from it when it exists and start from scratch otherwise, or resume=False")
    device = get_device() if device is None else check_device(device, "device")
    model.to(device)
    opt = (optimizer if isinstance(optimizer, torch.optim.Optimizer)
           else make_optimizer(optimizer, model.parameters(), lr))
    history, state, start, batch_size = LMHistory(), None, 0, None
    if resume_at is not None:
        start, state = resume_at
    if resume and Path(checkpoint).is_file():
        ckpt = load_checkpoint(checkpoint, model, opt, map_location=device)
        start, state = ckpt["step"], ckpt["state"]
        batch_size = (ckpt.get("rnnbook") or {}).get("batch_size")
        torch.set_rng_state(ckpt["rng"].cpu())
    chunks = _passes(stream)
    for _ in range(start):  # fast-forward the stream to where the checkpoint stopped
        next(chunks)

    def evaluate_now(step: int) -> None:
        if val is not None:
            history.val.append((step, evaluate(model, val, device=device)))
        if callback is not None:
            callback(step, model)
            model.train()

    model.train()
    t0 = time.perf_counter()
    clock = clock or (lambda: time.perf_counter() - t0)
    bar = tqdm(total=steps, initial=start, desc=desc, disable=not progress, mininterval=1.0)
    step, smooth, watch = start, None, DivergenceWatch()
    while steps is None or step < steps:
        elapsed = clock()
        if time_budget is not None and elapsed >= time_budget:
            break
        fraction = max(step / steps if steps else 0.0, elapsed / time_budget if time_budget else 0.0)
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(fraction, schedule, warmup)

        (x, y), new_pass = next(chunks)
        x, y = _as_long(x, device), _as_long(y, device)
        if batch_size is not None and x.shape[0] != batch_size and step == start:  # the first chunk of a resume
            raise CheckpointError(f"{checkpoint} carried the state of {batch_size} rows, but stream gives chunks of "
                                  f"{x.shape[0]}; resume with the batch size of the run that wrote it "
                                  f"({batch_size}), or start afresh (resume=False)")
        batch_size = x.shape[0]
        if new_pass or not carry_state:
            state = None  # zeros: no context from before this chunk
        state = detach_state(state)  # <- the truncation: the state's values flow on, its gradient stops here
        logits, state = model(x, state)
        if not bool((y != IGNORE).any()):
            continue  # no target in this chunk (e.g. before the first one of a delayed task): only the state moves on
        loss = lm_loss(logits, y)

        value = update(model, opt, loss, step, lr, clip_norm, clip_value)
        watch(value, step, lr, clip_norm, clip_value)  # a loss far above its start for many updates: diverged

        history.loss.append(value)
        history.tokens += y.numel()
        step += 1
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{smooth:.3f}", refresh=False)
        if on_update is not None:
            on_update(step, history, state)
        if eval_every and step % eval_every == 0 and (steps is None or step < steps):
            evaluate_now(step)
        if checkpoint is not None and checkpoint_every and step % checkpoint_every == 0:
            save_checkpoint(checkpoint, model, opt, step, state, batch_size=batch_size)
    bar.close()
    history.seconds, history.steps = time.perf_counter() - t0, step
    evaluate_now(step)
    if checkpoint is not None:
        save_checkpoint(checkpoint, model, opt, step, state, batch_size=batch_size)
    model.eval()
    return history


@dataclass(frozen=True)
class UpdateCost:
    """One TBPTT update: wall-clock seconds (median) and bytes of the tensors autograd saved for backward."""

    seconds: float
    saved_bytes: int


def update_cost(model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int = 3) -> UpdateCost:
    """Time one forward + backward over the chunk (x, y) of shape (N, k), and measure its activation memory:
    the bytes of every distinct tensor autograd keeps for the backward pass (parameters excluded).
    Backpropagating through k steps keeps k steps of activations, so the bytes grow linearly with k."""
    params = {p.data_ptr() for p in model.parameters()}
    seen: dict[tuple, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.data_ptr() not in params:  # the same tensor saved twice is counted once
            seen[(t.data_ptr(), tuple(t.shape), t.dtype)] = t.numel() * t.element_size()
        return t

    times = []
    for r in range(max(1, repeats)):
        model.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        if r == 0:
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                loss = lm_loss(model(x)[0], y)
        else:
            loss = lm_loss(model(x)[0], y)
        loss.backward()
        if x.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    model.zero_grad(set_to_none=True)
    return UpdateCost(float(np.median(times)), int(sum(seen.values())))


def gradient_mask(T: int, k: int, seed: int = 0) -> np.ndarray:
    """Which inputs each output learns from under TBPTT, found by autograd: M[t, s] is True when the output at
    step t has a nonzero gradient with respect to the input at step s, for a small tanh RNN run over T steps in
    chunks of k (chunk c covers steps ck .. ck + k - 1) with the state detached between chunks. Shape (T, T)."""
    if T < 1 or k < 1:
        raise ValueError(f"need T >= 1 and k >= 1, got T={T}, k={k}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(T, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    Wx = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    Wh = torch.randn(4, 4, generator=gen, dtype=torch.float64)
    h, outputs = torch.zeros(4, dtype=torch.float64), []
    for t in range(T):
        if t % k == 0:
            h = detach_state(h)  # a new chunk: the truncation
        h = torch.tanh(x[t] @ Wx + h @ Wh)
        outputs.append(h.sum())
    mask = np.zeros((T, T), dtype=bool)
    for t, out in enumerate(outputs):
        (grad,) = torch.autograd.grad(out, x, retain_graph=True)
        mask[t] = (grad.abs().sum(dim=1) > 0).numpy()
    return mask
