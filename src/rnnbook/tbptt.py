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
from rnnbook.metrics import Evaluation
from rnnbook.train import DivergenceWatch, History, check_run, fit, make_optimizer
from rnnbook.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from rnnbook.data.sequences import IGNORE  # the target of a step with no label
Chunk = tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]
Stream = Callable[[], Iterable[Chunk]]  # one pass over the data; called again for the next pass (epoch)


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

    The updates themselves are ``rnnbook.train.fit``'s (schedule, clipping, finite check, divergence watch, progress
    bar, time budget); what is specific to truncated BPTT is here: the chunks, the carried and detached state, the
    validation cadence, and checkpoints that hold the carried state and the position in the stream.

    Hooks for a caller that keeps its own checkpoints (``rnnbook.charlm``): ``optimizer`` may be an optimizer
    already built (and restored) by the caller; ``resume_at=(step, state)`` continues a run stopped after ``step``
    updates with carried state ``state`` (the caller restored weights, optimizer and RNG); ``on_update(step,
    history, state)`` is called after every update; ``clock()`` returns the seconds the run has lasted (default:
    since this call), for the time budget and the schedule.
    """
    check_run(steps, time_budget, lr, warmup)
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"eval_every must be >= 1 (updates between two) or None, got {eval_every}")
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1 (updates between two) or None, got {checkpoint_every}")
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

    def step_loss(step: int) -> torch.Tensor:
        """The loss of the next chunk with a target, from the carried state."""
        nonlocal state, batch_size
        while True:
            (x, y), new_pass = next(chunks)
            x, y = _as_long(x, device), _as_long(y, device)
            if batch_size is not None and x.shape[0] != batch_size and step == start:  # the first chunk of a resume
                raise CheckpointError(f"{checkpoint} carried the state of {batch_size} rows, but stream gives "
                                      f"chunks of {x.shape[0]}; resume with the batch size of the run that wrote "
                                      f"it ({batch_size}), or start afresh (resume=False)")
            batch_size = x.shape[0]
            if new_pass or not carry_state:
                state = None  # zeros: no context from before this chunk
            state = detach_state(state)  # <- the truncation: the state's values flow on, its gradient stops here
            logits, state = model(x, state)
            if bool((y != IGNORE).any()):
                break  # else no target in this chunk (e.g. before the first of a delayed task): only the state moves
        history.tokens += y.numel()
        return lm_loss(logits, y)

    def evaluate_now(step: int) -> None:
        if val is not None:
            history.val.append((step, evaluate(model, val, device=device)))
        if callback is not None:
            callback(step, model)
            model.train()

    def after_update(step: int, _: LMHistory) -> None:
        if on_update is not None:
            on_update(step, history, state)
        if eval_every and step % eval_every == 0 and (steps is None or step < steps):
            evaluate_now(step)
        if checkpoint is not None and checkpoint_every and step % checkpoint_every == 0:
            save_checkpoint(checkpoint, model, opt, step, state, batch_size=batch_size)

    t0 = time.perf_counter()
    fit(model, step_loss, steps, lr, opt, clip_norm, clip_value, progress, desc, schedule=schedule, warmup=warmup,
        watch=DivergenceWatch(), time_budget=time_budget, start=start, history=history, on_update=after_update,
        clock=clock)
    history.seconds, history.steps = time.perf_counter() - t0, start + len(history.loss)
    model.train()  # the last validation and callback see the model as the others did
    evaluate_now(history.steps)
    if checkpoint is not None:
        save_checkpoint(checkpoint, model, opt, history.steps, state, batch_size=batch_size)
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
