"""min-char-rnn, fast: the same model and update rule, trained on B parallel streams with batched matrix products.

The faithful port (``rnnbook.minchar``) pushes one column vector through the network per character: many tiny
numpy calls. The twin keeps the parameters in the listing's shapes (``Wxh (H, V)``, ``Whh (H, H)``,
``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``) but stores the states of B streams as rows, row-major::

    H_t = tanh(Wxh[:, x_t]^T + H_{t-1} Whh^T + bh^T)     H_t: (B, H), x_t: (B,) character indices
    Y   = [H_1; ...; H_T] Why^T + by^T                    Y: (T*B, V), one matrix product for the whole chunk
    loss = (1/B) sum_b sum_t -log softmax(Y)[target]      the listing's summed loss, averaged over the streams

Only the recurrence ``H_{t-1} Whh^T`` (forward) and ``dH_t Whh`` (backward) stay inside a Python loop over t; the
input lookup, the output layer, the softmax and the weight gradients are one array operation per chunk.
The text is cut into B equal stretches; stream b reads stretch b from left to right, ``seq_length`` characters per
update, and all streams go back to their start (with zero memory) by the listing's rule, applied to a stretch.
Clipping (element-wise to [-5, 5]) and Adagrad are the listing's. With ``batch_size=1`` the twin is the faithful
port, up to floating-point rounding (the order of a few sums differs).

``dtype=np.float32`` halves the memory traffic and runs the products about twice as fast. The large arrays of a
chunk (states, probabilities, backpropagated gradients) live in a ``Workspace`` that every update reuses: allocating
them afresh cost a page fault per 4 kB page, about a third of the time at B = 32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnbook.env import blas_threads
from rnnbook.minchar import (
    CLIP, HIDDEN_SIZE, LEARNING_RATE, SEQ_LENGTH, Params, adagrad_update, build_vocab, check_data, check_loss,
    init_params, sample, seed_index,
)

DTYPES = (np.float32, np.float64)


def _check_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in [np.dtype(d) for d in DTYPES]:
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


class Workspace:
    """The large arrays of one chunk's forward and backward pass, allocated once and reused by every update.

    Arrays above a few hundred kB come from the operating system (``mmap``) and go back to it when freed, so a
    fresh ``np.empty`` of that size costs a page fault per 4 kB page at first touch: at B = 32 that was about a
    third of the twin's time. Pass one ``Workspace`` to every ``batched_lossFun`` call of the same shape.
    Not thread-safe: one workspace per training loop.
    """

    def __init__(self, T: int, B: int, H: int, V: int, dtype=np.float64):
        dtype = _check_dtype(dtype)
        self.shape = (T, B, H, V, dtype)
        self.hs = np.empty((T + 1, B, H), dtype)  # hs[0] = h_{-1} = hprev, hs[t + 1] = h_t
        self.xWb = np.empty((T * B, H), dtype)  # Wxh x_t + bh, for every t and stream
        self.ps = np.empty((T * B, V), dtype)  # the scores, then the probabilities, then dy
        self.dh_out = np.empty((T * B, H), dtype)  # backprop into h from the outputs
        self.dtanh = np.empty((T, B, H), dtype)  # 1 - h_t^2
        self.dhraw = np.empty((T, B, H), dtype)
        self.onehot = np.zeros((T * B, V), dtype)  # the inputs x_t in 1-of-k, as rows

    def fits(self, T: int, B: int, H: int, V: int, dtype) -> bool:
        return self.shape == (T, B, H, V, np.dtype(dtype))


def batched_lossFun(inputs: np.ndarray, targets: np.ndarray, hprev: np.ndarray, params: Params,
                    clip: float | None = CLIP, work: Workspace | None = None):
    """Forward and backward through one chunk of B streams.

    ``inputs``, ``targets``: int arrays (T, B); ``hprev``: (B, H) initial states (rows).
    Returns ``loss, dWxh, dWhh, dWhy, dbh, dby, h_last``: the summed cross-entropy averaged over the B streams,
    the gradients of that loss in the listing's shapes (clipped element-wise to [-clip, clip]; ``None`` = raw),
    and the last states (B, H). ``work``: a ``Workspace`` of this shape to reuse (default: a new one).
    """
    Wxh, Whh, Why, bh, by = params.as_list()
    inputs, targets, hprev = np.asarray(inputs), np.asarray(targets), np.asarray(hprev)
    if inputs.ndim != 2 or targets.shape != inputs.shape:
        raise ValueError(f"inputs and targets must both be (T, B) int arrays, got {inputs.shape} and {targets.shape}")
    T, B = inputs.shape
    H, V = Wxh.shape
    dtype = Whh.dtype
    if hprev.shape != (B, H):
        raise ValueError(f"hprev must be (B, H) = {(B, H)} (one row per stream), got {hprev.shape}")
    if work is None or not work.fits(T, B, H, V, dtype):
        work = Workspace(T, B, H, V, dtype)
    # forward pass: only the recurrence is a loop
    hs = work.hs
    hs[0] = hprev
    xflat, tflat = inputs.reshape(T * B), targets.reshape(T * B)
    xWb = work.xWb.reshape(T, B, H)
    np.take(Wxh.T + bh.T, xflat, axis=0, out=work.xWb)  # row x_t of (Wxh^T + bh^T): Wxh x_t + bh
    WhhT = Whh.T
    for t in range(T):
        a = hs[t + 1]
        np.dot(hs[t], WhhT, out=a)
        a += xWb[t]
        np.tanh(a, out=a)
    h_flat = hs[1:].reshape(T * B, H)
    ys = work.ps
    np.dot(h_flat, Why.T, out=ys)  # (T*B, V) unnormalised log-probabilities
    ys += by.T
    ys -= ys.max(axis=1, keepdims=True)  # softmax is shift-invariant; keeps exp finite in float32
    ps = np.exp(ys, out=ys)
    ps /= ps.sum(axis=1, keepdims=True)
    rows = np.arange(T * B)
    loss = float(-np.log(ps[rows, tflat]).sum()) / B
    # backward pass
    dy = ps
    dy[rows, tflat] -= 1  # backprop into y
    if B > 1:
        dy /= B  # the loss is the mean over the streams
    dWhy = dy.T @ h_flat
    dby = dy.sum(axis=0)[:, None]
    dh_out = work.dh_out.reshape(T, B, H)
    np.dot(dy, Why, out=work.dh_out)
    dtanh = work.dtanh
    np.multiply(hs[1:], hs[1:], out=dtanh)
    np.subtract(1, dtanh, out=dtanh)
    dhraw = work.dhraw
    dhnext = np.zeros((B, H), dtype)
    for t in reversed(range(T)):
        d = dhraw[t]
        np.add(dh_out[t], dhnext, out=d)
        d *= dtanh[t]  # backprop through tanh nonlinearity
        np.dot(d, Whh, out=dhnext)
    dr_flat = dhraw.reshape(T * B, H)
    dbh = dr_flat.sum(axis=0)[:, None]
    onehot = work.onehot
    onehot[rows, xflat] = 1
    dWxh = dr_flat.T @ onehot
    onehot[rows, xflat] = 0  # clean for the next call
    dWhh = dr_flat.T @ hs[:-1].reshape(T * B, H)
    grads = [dWxh, dWhh, dWhy, dbh, dby]
    if clip is not None:
        for dparam in grads:
            np.clip(dparam, -clip, clip, out=dparam)  # clip to mitigate exploding gradients
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[T].copy()


def loss_per_char(params: Params, ids: np.ndarray, batch_size: int = 64, chunk: int = 100,
                  threads: int | None = 1) -> float:
    """Mean cross-entropy in nats per character of ``ids`` (1-D int array) under ``params``, forward only.

    The text is cut into ``batch_size`` streams read from zero memory to the end; each character after the first
    of its stream is predicted from all those before it in that stream. ``threads``: see ``rnnbook.env.blas_threads``.
    """
    with blas_threads(threads):
        return _loss_per_char(params, ids, batch_size, chunk)


def _loss_per_char(params: Params, ids: np.ndarray, batch_size: int, chunk: int) -> float:
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"expected a 1-D array of at least 2 character ids, got shape {ids.shape}")
    Wxh, Whh, Why, bh, by = params.as_list()
    if ids.min() < 0 or ids.max() >= Wxh.shape[1]:
        raise ValueError(f"ids must lie in 0..{Wxh.shape[1] - 1}, got {ids.min()}..{ids.max()}")
    B = max(1, min(batch_size, len(ids) // 2))
    L = len(ids) // B
    rows = ids[: B * L].reshape(B, L)
    h = np.zeros((B, Whh.shape[0]), Whh.dtype)
    total, count = 0.0, 0
    for start in range(0, L - 1, chunk):
        stop = min(start + chunk, L - 1)
        hs = []
        for t in range(start, stop):
            h = np.tanh(Wxh.T[rows[:, t]] + h @ Whh.T + bh.T)
            hs.append(h)
        ys = np.concatenate(hs) @ Why.T + by.T
        ys = ys - ys.max(axis=1, keepdims=True)
        logp = ys - np.log(np.exp(ys).sum(axis=1, keepdims=True))
        tg = rows[:, start + 1: stop + 1].T.reshape(-1)
        total += float(-logp[np.arange(len(tg)), tg].sum())
        count += len(tg)
    return total / count


class BatchedMinCharRNN:
    """The listing's training loop on ``batch_size`` parallel streams; ``step()`` is one update.

    ``n`` updates so far, ``p`` position inside each stream's stretch, ``hprev`` (B, H), ``params`` and ``mems``
    (Adagrad) in the listing's shapes and in ``dtype``, ``smooth_loss`` and ``smooth_losses`` (after each update),
    ``chars_seen`` = n * B * seq_length. ``seed`` seeds numpy's legacy generator before the weights are drawn
    exactly as the faithful port draws them; or pass ``params`` (copied, cast to ``dtype``).
    ``threads``: BLAS threads while ``train`` runs (default 1, see ``rnnbook.env.blas_threads``; None leaves numpy's default).
    """

    def __init__(self, data: str, batch_size: int = 32, hidden_size: int = HIDDEN_SIZE,
                 seq_length: int = SEQ_LENGTH, learning_rate: float = LEARNING_RATE, dtype=np.float64,
                 seed: int | None = None, params: Params | None = None, clip: float | None = CLIP,
                 threads: int | None = 1):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        check_data(data, seq_length)
        if len(data) // batch_size < seq_length + 1:
            raise ValueError(
                f"a text of {len(data)} characters cut into batch_size={batch_size} streams leaves "
                f"{len(data) // batch_size} per stream; each needs at least seq_length + 1 = {seq_length + 1}. "
                "Use a smaller batch_size or a longer text.")
        self.dtype = _check_dtype(dtype)
        self.chars, self.char_to_ix, self.ix_to_char = build_vocab(data)
        self.vocab_size = len(self.chars)
        self.ids = np.fromiter((self.char_to_ix[c] for c in data), dtype=np.int64, count=len(data))
        self.batch_size, self.hidden_size, self.seq_length = batch_size, hidden_size, seq_length
        self.learning_rate, self.clip, self.threads = learning_rate, clip, threads
        self.stretch = len(data) // batch_size
        self._offsets = np.arange(batch_size)[:, None] * self.stretch + np.arange(seq_length + 1)[None, :]
        if params is None:
            if seed is not None:
                np.random.seed(seed)
            params = init_params(self.vocab_size, hidden_size)
        elif params.Wxh.shape != (hidden_size, self.vocab_size):
            raise ValueError(f"params.Wxh has shape {params.Wxh.shape}, expected {(hidden_size, self.vocab_size)}")
        self.params = Params(*(np.array(a, dtype=self.dtype) for a in params.as_list()))
        self.mems = [np.zeros_like(a) for a in self.params.as_list()]
        self.hprev = np.zeros((batch_size, hidden_size), self.dtype)
        self.work = Workspace(seq_length, batch_size, hidden_size, self.vocab_size, self.dtype)
        self.n, self.p = 0, 0
        self.smooth_loss = -np.log(1.0 / self.vocab_size) * seq_length
        self.smooth_losses: list[float] = []
        self.losses: list[float] = []

    @property
    def chars_seen(self) -> int:
        return self.n * self.batch_size * self.seq_length

    def step(self) -> float:
        """One update on the next chunk of every stream; returns its loss (summed over t, mean over streams)."""
        if self.p + self.seq_length + 1 >= self.stretch or self.n == 0:
            self.hprev = np.zeros((self.batch_size, self.hidden_size), self.dtype)  # reset RNN memory
            self.p = 0
        chunk = self.ids[self._offsets + self.p].T  # (T + 1, B)
        loss, *grads, self.hprev = batched_lossFun(chunk[:-1], chunk[1:], self.hprev, self.params, self.clip,
                                                   self.work)
        check_loss(loss, self.n, self.learning_rate, self.clip)
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        self.losses.append(loss)
        self.smooth_losses.append(float(self.smooth_loss))
        adagrad_update(self.params, grads, self.mems, self.learning_rate)
        self.p += self.seq_length
        self.n += 1
        return loss

    def train(self, iters: int) -> "BatchedMinCharRNN":
        """Run ``iters`` updates (``iters * batch_size * seq_length`` characters)."""
        if iters < 0:
            raise ValueError(f"iters must be >= 0, got {iters}")
        with blas_threads(self.threads):
            for _ in range(iters):
                self.step()
        return self

    def encode(self, text: str) -> np.ndarray:
        missing = sorted(set(text) - set(self.char_to_ix))
        if missing:
            raise ValueError(f"characters {missing[:10]} are not in the model's vocabulary of {self.vocab_size}")
        return np.fromiter((self.char_to_ix[c] for c in text), dtype=np.int64, count=len(text))

    def sample_text(self, n: int = 200, seed_char: str | None = None, temperature: float = 1.0,
                    h: np.ndarray | None = None) -> str:
        """Sample ``n`` characters with the faithful ``sample`` (legacy global generator), from memory ``h``
        (H, 1) (default: zeros) after ``seed_char`` (default: the first character of the text)."""
        h = np.zeros((self.hidden_size, 1), self.dtype) if h is None else h
        seed_ix = seed_index(self.char_to_ix, seed_char) if seed_char is not None else int(self.ids[0])
        return "".join(self.ix_to_char[i] for i in sample(h, seed_ix, n, self.params, temperature))


def params_to(params: Params, dtype=np.float64) -> Params:
    """A copy of ``params`` in ``dtype``."""
    dtype = _check_dtype(dtype)
    return Params(*(np.array(a, dtype=dtype) for a in params.as_list()))


__all__: Sequence[str] = ["BatchedMinCharRNN", "Workspace", "batched_lossFun", "loss_per_char", "params_to"]
