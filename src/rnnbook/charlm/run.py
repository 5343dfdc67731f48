"""Train a character model on a text file, sample from it, score another text: what the command line calls.

``train`` is chapter 4's recipe on any UTF-8 file: the last 10 % of the text is held out for validation, the rest is
read as ``batch`` contiguous rows in chunks of ``k`` characters with the LSTM's state carried between them
(``rnnbook.tbptt.train_lm``), Adam with a 2 % warm-up and a linear decay to zero, gradient norm clipped to 1. The
default size (224 units reading 32-dimensional embeddings) is the one ``benchmarks/charlm_recipe.py`` measured as
the best use of a CPU's minutes. Every ``eval_every`` updates (or ``EVAL_SECONDS`` of training, whichever comes
first) and at the end it measures the validation loss and writes ``DIR/last.pt`` (and ``DIR/best.pt`` when the validation loss is the lowest so far).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

import rnnbook
from rnnbook.charlm import ddp
from rnnbook.charlm.checkpoint import CharLMError, read_checkpoint, write_checkpoint
from rnnbook.data.streams import train_val_split
from rnnbook.data.text import Vocab, read_text
from rnnbook.env import get_device, seed_everything
from rnnbook.metrics import Evaluation
from rnnbook.models.charlm import RNN_LAYERS, CharLM
from rnnbook.tbptt import evaluate, evaluate_text, text_stream, train_lm
from rnnbook.train import make_optimizer

VAL_BATCH, VAL_LEN = 16, 256  # validation: up to 16 rows read in chunks of 256 characters, state carried
EVAL_SECONDS = 120.0  # on a slow machine, validate (and write last.pt) at least this often
CONTEXT = 256  # characters of training text a sample reads before its prime (see ``context``)


@dataclass
class Settings:
    """Everything that decides a run (saved in its checkpoints; a resumed run keeps them)."""

    cell: str = "lstm"
    hidden: int = 224
    embed: int = 32
    layers: int = 1
    dropout: float = 0.0
    k: int = 32  # truncation length: characters per chunk
    batch: int = 64  # contiguous rows (the whole batch, shared out across processes under torchrun)
    lr: float = 1.2e-2
    warmup: float = 0.02
    clip: float = 1.0
    steps: int | None = None  # updates; with neither steps nor minutes: 2000
    minutes: float | None = None  # wall-clock budget (the learning-rate schedule then follows the clock)
    eval_every: int = 500
    seed: int = 0
    val_fraction: float = 0.1

    def check(self) -> None:
        if self.cell not in RNN_LAYERS:
            raise CharLMError(f"--cell must be one of {sorted(RNN_LAYERS)}, got {self.cell!r}")
        for name in ("hidden", "embed", "layers", "k", "batch", "eval_every"):
            if getattr(self, name) < 1:
                raise CharLMError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise CharLMError(f"--dropout must be in [0, 1), got {self.dropout}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise CharLMError(f"--lr must be a positive number, got {self.lr}")
        if self.steps is not None and self.steps < 1:
            raise CharLMError(f"--steps must be >= 1, got {self.steps}")
        if self.minutes is not None and not self.minutes > 0:
            raise CharLMError(f"--minutes must be > 0, got {self.minutes}")
        if not 0 < self.val_fraction < 1:
            raise CharLMError(f"val_fraction must be in (0, 1), got {self.val_fraction}")


@dataclass
class Run:
    """What ``train`` returns: the run's folder, its history and the trained model (in eval mode)."""

    out: Path
    model: CharLM
    vocab: Vocab
    settings: Settings
    steps: int
    losses: list[float]  # training loss (nats/char) of every update, from the first
    val: list[tuple[int, Evaluation]]  # (update, validation) at every validation
    chars_per_second: float  # characters read per second of training (this session, all processes)
    seconds: float  # wall-clock seconds of training, over all sessions of the run
    best: tuple[int, float] = field(default=(0, math.inf))  # (update, validation nats/char) of best.pt


def read_corpus(path: str | Path) -> str:
    """A UTF-8 text file with clear errors for a missing, empty, binary or non-UTF-8 file."""
    try:
        text = read_text(path)
    except (FileNotFoundError, ValueError) as err:
        raise CharLMError(str(err)) from None
    if "\x00" in text:
        raise CharLMError(f"{path} contains NUL bytes (first at offset {text.index(chr(0))}): it looks like a binary "
                          "file, not text. Train on a plain-text file.")
    return text


def split(text: str, vocab: Vocab, s: Settings, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation ids; a text too short for ``batch`` rows of one chunk each is refused, with the sizes."""
    train_ids, val_ids = train_val_split(vocab.encode(text), 1 - s.val_fraction)
    need = math.ceil((s.batch * (s.k + 1) + 1) / (1 - s.val_fraction)) + 1
    if len(train_ids) < s.batch * (s.k + 1) or len(val_ids) < 2:
        raise CharLMError(f"{source} is too short: {len(text):,} characters. With --batch {s.batch} and --k {s.k} "
                          f"training needs at least about {need:,} ({int(100 * (1 - s.val_fraction))} % to train, "
                          f"{s.batch} rows of at least {s.k + 1} characters each, the rest to validate). "
                          "Use a longer text, or a smaller --batch or --k.")
    return train_ids, val_ids


def context(train_text: str, n: int = CONTEXT) -> str:
    """Up to ``n`` characters of the training text ending at its last paragraph break (else line break, else its end).

    A sample reads them before its prime. Zeros are a state the model hardly knows: with the state carried from chunk
    to chunk, training starts from zeros only once per pass over the text, and after a few passes a model primed
    from zeros with "ROMEO:" wrote "NjuU;qKqWqv&p&XV..." for dozens of characters. After this passage it starts at
    the beginning of a paragraph, in a state like those it was trained in.
    """
    end = len(train_text)
    for brk in ("\n\n", "\n"):
        if (i := train_text.rfind(brk)) >= 0:
            end = i + len(brk)
            break
    return train_text[max(0, end - n):end]


def _build(vocab: Vocab, s: Settings) -> CharLM:
    return CharLM(len(vocab), hidden=s.hidden, layers=s.layers, cell=s.cell, embed_dim=s.embed, dropout=s.dropout)


def _writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{time.time_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise CharLMError(f"cannot write to the output folder {out} ({err.strerror or err}); "
                          "pass --out with a folder you can write to.") from None


def _val_stream(val_ids: np.ndarray):
    batch = max(1, min(VAL_BATCH, len(val_ids) // (4 * VAL_LEN)))
    return text_stream(val_ids, batch, VAL_LEN)


def train(path: str | Path | None = None, out: str | Path = "charlm-run", *, resume: bool = False,
          device: str | None = None, progress: bool = True, **settings) -> Run:
    """Train a CharLM on the text file ``path``, writing checkpoints to ``out``: ``python -m rnnbook.charlm train``.

    ``settings`` are the fields of ``Settings`` (``hidden=``, ``steps=``, ``minutes=`` ...). ``resume=True``
    continues the run in ``out`` from ``out/last.pt`` exactly where it stopped (weights, optimizer, schedule, RNG,
    position in the stream, carried state): on a CPU the numbers are those of an uninterrupted run of ``steps``
    updates. A resumed run keeps its settings; only ``steps`` or ``minutes`` may be raised. Under ``torchrun`` each
    process trains on its share of the rows (``rnnbook.charlm.ddp``).
    """
    out = Path(out)
    unknown = set(settings) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"train() got unknown settings {sorted(unknown)}; known: {[f.name for f in fields(Settings)]}")
    given = {k: v for k, v in settings.items() if v is not None}
    device = device or get_device()
    world = ddp.start(device)
    if world.size > 1 and device.startswith("cuda"):
        device = f"cuda:{world.local_rank}"
    try:
        return _train(path, out, resume, device, progress, given, world)
    finally:
        ddp.stop(world)


def _train(path, out: Path, resume: bool, device: str, progress: bool, given: dict, world: ddp.World) -> Run:
    from tqdm.auto import tqdm

    last, best_path = out / "last.pt", out / "best.pt"
    ckpt = None
    if resume:
        ckpt = read_checkpoint(last)
        meta = ckpt["meta"]
        s = Settings(**meta["settings"])
        for name, value in given.items():
            if name not in ("steps", "minutes") and value != getattr(s, name):
                raise CharLMError(f"--{name.replace('_', '-')} {value} differs from the run's {getattr(s, name)}: "
                                  "a resumed run keeps its settings (only --steps or --minutes may change)")
        for name in ("steps", "minutes"):
            if name in given:
                setattr(s, name, given[name])
        path = path or meta["input"]
    else:
        s = Settings(**given)
        if path is None:
            raise CharLMError("train needs an INPUT text file (or --resume DIR to continue a run)")
        if last.exists():
            raise CharLMError(f"{out} already holds a run ({last}); continue it with --resume {out}, "
                              "or choose another --out folder")
    if s.steps is None and s.minutes is None:
        s.steps = 2000
    s.check()
    if s.batch % world.size:
        raise CharLMError(f"--batch {s.batch} must be a multiple of the number of processes ({world.size})")
    if world.main:
        _writable(out)

    text = read_corpus(path)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if ckpt is not None:
        if digest != ckpt["meta"]["text_sha256"]:
            raise CharLMError(f"{path} is not the text this run was trained on (its sha256 differs); "
                              f"resume with the same file as before ({ckpt['meta']['input']})")
        vocab = Vocab(ckpt["meta"]["vocab"])
    else:
        vocab = Vocab.from_text(text)
    train_ids, val_ids = split(text, vocab, s, str(path))
    warm = context(text[:len(train_ids)])

    seed_everything(s.seed)
    net = _build(vocab, s).to(device)
    opt = make_optimizer("adam", net.parameters(), s.lr)
    losses: list[float] = []
    val: list[tuple[int, Evaluation]] = []
    best, start, state, seconds0 = (0, math.inf), 0, None, 0.0
    if ckpt is not None:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        torch.set_rng_state(ckpt["rng"].cpu())
        meta = ckpt["meta"]
        losses = list(meta["losses"])
        val = [(st, Evaluation(n, a, c)) for st, n, a, c in meta["val"]]
        best, start, seconds0 = tuple(meta["best"]), ckpt["step"], float(meta["seconds"])
        state = ddp.shard_rows(ckpt["state"], world, s.batch)
        state = tuple(t.to(device) for t in state) if isinstance(state, tuple) else (
            state.to(device) if state is not None else None)
    model = net
    if world.size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[world.local_rank] if device.startswith("cuda") else None)

    full = text_stream(train_ids, s.batch, s.k)
    mine = ddp.rows(world, s.batch)
    stream = full if world.size == 1 else (lambda: ((x[mine], y[mine]) for x, y in full()))
    val_stream = _val_stream(val_ids)
    clock = ddp.clock(seconds0, world, device)

    bar = tqdm(total=s.steps, initial=start, desc=Path(path).name, unit="upd", dynamic_ncols=True,
               disable=not (progress and world.main), mininterval=0.5)
    t_session, chars_session = time.perf_counter(), 0
    where = {"step": start, "state": state, "saved": start if ckpt is not None else -1, "saved_at": seconds0}
    smooth = losses[-1] if losses else None

    def meta_now(step: int, seconds: float) -> dict:
        return dict(rnnbook=rnnbook.__version__, vocab="".join(vocab.itos), settings=asdict(s),
                    input=str(Path(path).resolve()), text_sha256=digest, losses=losses[:step],
                    val=[[st, e.nats, e.accuracy, e.count] for st, e in val], best=list(best), seconds=seconds,
                    world_size=world.size, context=warm)

    def checkpoint(step: int, state) -> None:
        nonlocal best
        whole = ddp.gather_rows(state, world)  # every process takes part; the first one writes
        seconds = clock()
        where["saved"], where["saved_at"] = step, seconds
        if not world.main:
            return
        result = evaluate(net, val_stream, device=device)
        val.append((step, result))
        is_best = result.nats < best[1]
        if is_best:
            best = (step, result.nats)
        meta = meta_now(step, seconds)
        write_checkpoint(last, net, opt, step, whole, meta)
        if is_best:
            write_checkpoint(best_path, net, opt, step, whole, meta)
        line = (f"update {step}: validation {result.nats:.4f} nats/char = {result.bits:.4f} bits/char, "
                f"perplexity {result.perplexity:.2f}" + (" (best so far)" if is_best else ""))
        bar.write(line)
        bar.set_postfix_str(f"loss {smooth:.3f}, val {result.nats:.3f}, {chars_per_s():,.0f} chars/s", refresh=False)

    def chars_per_s() -> float:
        return chars_session * world.size / max(1e-9, time.perf_counter() - t_session)

    def on_update(step: int, history, state) -> None:
        nonlocal smooth, chars_session
        loss = ddp.mean(history.loss[-1], world, device)
        losses.append(loss)
        chars_session = history.tokens
        smooth = loss if smooth is None else 0.95 * smooth + 0.05 * loss
        where["step"], where["state"] = step, state
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix_str(f"loss {smooth:.3f}, {chars_per_s():,.0f} chars/s", refresh=False)
        if step % s.eval_every == 0 or clock() - where["saved_at"] >= EVAL_SECONDS:
            checkpoint(step, state)

    try:
        train_lm(model, stream, s.steps, time_budget=None if s.minutes is None else 60 * s.minutes, lr=s.lr,
                 optimizer=opt, clip_norm=s.clip, schedule="linear", warmup=s.warmup, device=device, progress=False,
                 resume_at=(start, state), on_update=on_update, clock=clock)
        if where["saved"] != where["step"]:
            checkpoint(where["step"], where["state"])
    except KeyboardInterrupt:
        bar.close()
        if world.main:
            print(f"\ninterrupted after update {where['step']}; the last checkpoint (update {where['saved']}) is in "
                  f"{out}; continue with: python -m rnnbook.charlm train --resume {out}")
        raise
    bar.close()
    net.eval()
    return Run(out, net, vocab, s, where["step"], losses, val, chars_per_s(), clock(), best)


def load(out: str | Path, which: str = "best", device: str = "cpu") -> tuple[CharLM, Vocab, dict]:
    """The model, vocabulary and checkpoint of a finished run in ``out`` (``which``: ``"best"`` or ``"last"``)."""
    if which not in ("best", "last"):
        raise CharLMError(f"--checkpoint must be 'best' or 'last', got {which!r}")
    out = Path(out)
    if not out.is_dir():
        raise CharLMError(f"no run folder {out}: train one with `python -m rnnbook.charlm train INPUT.txt --out {out}`")
    ckpt = read_checkpoint(out / f"{which}.pt", map_location=device)
    meta = ckpt["meta"]
    vocab = Vocab(meta["vocab"])
    net = _build(vocab, Settings(**meta["settings"])).to(device)
    try:
        net.load_state_dict(ckpt["model"])
    except RuntimeError as err:
        raise CharLMError(f"{out / f'{which}.pt'}: the weights do not fit the model its settings describe "
                          f"({str(err).splitlines()[0]})") from None
    net.eval()
    return net, vocab, ckpt


def sample(out: str | Path, prime: str = "\n", length: int = 500, temperature: float = 0.8, top_k: int | None = None,
           seed: int | None = 0, which: str = "best", device: str = "cpu") -> str:
    """``prime`` followed by ``length`` characters drawn from the model of the run in ``out``, which reads the
    run's ``context`` (a passage of its training text) and then ``prime`` before it writes."""
    if not prime:
        raise CharLMError("--prime must hold at least one character (the model needs something to read first)")
    if length < 0:
        raise CharLMError(f"--length must be >= 0, got {length}")
    if not temperature > 0:
        raise CharLMError(f"--temperature must be > 0, got {temperature}; use e.g. 0.1 for near-greedy sampling")
    if top_k is not None and top_k < 1:
        raise CharLMError(f"--top-k must be >= 1, got {top_k}")
    net, vocab, ckpt = load(out, which, device)
    unseen = sorted(set(prime) - set(vocab.itos))
    if unseen:
        names = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unseen)
        raise CharLMError(f"the prime holds {len(unseen)} character(s) the model never saw in training: {names}. "
                          f"Its vocabulary has {len(vocab)} characters: {''.join(vocab.itos)!r}")
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    ids = net.sample_ids(vocab.encode(ckpt["meta"].get("context", "") + prime), length, temperature, top_k, generator)
    return prime + vocab.decode(ids)


def evaluate_file(out: str | Path, path: str | Path, which: str = "best", skip_unknown: bool = False,
                  device: str = "cpu") -> Evaluation:
    """The loss (nats/char) of the run's model on another text file, its state carried through the text."""
    net, vocab, _ = load(out, which, device)
    text = read_corpus(path)
    unseen = sorted(set(text) - set(vocab.itos))
    if unseen and not skip_unknown:
        counts = ", ".join(f"{c!r} x{text.count(c)}" for c in unseen[:12]) + (" ..." if len(unseen) > 12 else "")
        raise CharLMError(f"{path} holds {len(unseen)} character(s) the model never saw, so it cannot score them: "
                          f"{counts}. Pass --skip-unknown to score the text without them.")
    if unseen:
        text = "".join(c for c in text if c in vocab.stoi)
    if len(text) < 2:
        raise CharLMError(f"{path} has fewer than 2 (known) characters: nothing to predict")
    ids = vocab.encode(text)
    batch = max(1, min(VAL_BATCH, len(ids) // (4 * VAL_LEN)))
    return evaluate_text(net, ids, batch_size=batch, seq_len=VAL_LEN, device=device)
