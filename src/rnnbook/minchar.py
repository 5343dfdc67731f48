"""min-char-rnn, faithfully: Karpathy's 112-line character-level vanilla RNN, ported to Python 3.

The model of the lecture's listing (column-vector states, one sequence of ``seq_length`` characters per update)::

    h_t = tanh(Wxh x_t + Whh h_{t-1} + bh)      x_t: one-hot (V, 1), h_t: (H, 1)
    y_t = Why h_t + by                           y_t: (V, 1) unnormalised log-probabilities
    p_t = exp(y_t) / sum(exp(y_t))               loss = sum_t -log p_t[target_t]

Shapes: ``Wxh (H, V)``, ``Whh (H, H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``.

The algorithm is the listing's, operation for operation: ``np.random.randn(...) * 0.01`` for Wxh, Whh, Why in that
order on numpy's legacy global generator, zero biases, summed cross-entropy, element-wise gradient clipping to
[-5, 5], Adagrad with 1e-8 inside the square root, the data pointer and its reset rule, ``hprev`` carried from one
chunk to the next, the smooth loss that starts at ``seq_length * ln V``, and sampling with ``np.random.choice``
before the update every 100 iterations. With the same seed it prints, digit for digit, what the listing prints.

The one deliberate change: the vocabulary is ``sorted(set(data))``, not ``list(set(data))``. The order of a set
of strings depends on string hashing, which Python 3 randomises per process, so the listing's character-to-index
map (and with it every number it prints) changes from one run to the next.

Command line (prints the listing's lines)::

    python -m rnnbook.minchar DATA_FILE --seed S --iters N [--sample-every K]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnbook.data.text import read_text
from rnnbook.errors import DivergenceError

HIDDEN_SIZE = 100  # size of hidden layer of neurons
SEQ_LENGTH = 25  # number of steps to unroll the RNN for
LEARNING_RATE = 1e-1
CLIP = 5.0  # element-wise gradient clipping to [-CLIP, CLIP]
SAMPLE_EVERY = 100
SAMPLE_LENGTH = 200
PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")


@dataclass
class Params:
    """The five parameters of min-char-rnn, in the listing's (column-vector) shapes.

    ``Wxh (H, V)`` input to hidden, ``Whh (H, H)`` hidden to hidden, ``Why (V, H)`` hidden to output,
    ``bh (H, 1)`` hidden bias, ``by (V, 1)`` output bias.
    """

    Wxh: np.ndarray
    Whh: np.ndarray
    Why: np.ndarray
    bh: np.ndarray
    by: np.ndarray

    def as_list(self) -> list[np.ndarray]:
        """[Wxh, Whh, Why, bh, by]: the same arrays (not copies), so in-place updates change the model."""
        return [self.Wxh, self.Whh, self.Why, self.bh, self.by]

    def copy(self) -> "Params":
        return Params(*(np.copy(a) for a in self.as_list()))

    @property
    def hidden_size(self) -> int:
        return self.Whh.shape[0]

    @property
    def vocab_size(self) -> int:
        return self.Wxh.shape[1]


def build_vocab(data: str) -> tuple[list[str], dict[str, int], dict[int, str]]:
    """``chars`` (sorted), ``char_to_ix`` and ``ix_to_char`` of a text: the listing's data I/O, made reproducible."""
    chars = sorted(set(data))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    return chars, char_to_ix, ix_to_char


def init_params(vocab_size: int, hidden_size: int = HIDDEN_SIZE) -> Params:
    """Small random weights, ``np.random.randn(...) * 0.01`` for Wxh, Whh, Why (in that order), zero biases.

    Draws from numpy's legacy global generator, as the listing does: call ``np.random.seed(s)`` first to fix them.
    """
    if vocab_size < 1 or hidden_size < 1:
        raise ValueError(f"vocab_size and hidden_size must be >= 1, got {vocab_size} and {hidden_size}")
    Wxh = np.random.randn(hidden_size, vocab_size) * 0.01  # input to hidden
    Whh = np.random.randn(hidden_size, hidden_size) * 0.01  # hidden to hidden
    Why = np.random.randn(vocab_size, hidden_size) * 0.01  # hidden to output
    bh = np.zeros((hidden_size, 1))  # hidden bias
    by = np.zeros((vocab_size, 1))  # output bias
    return Params(Wxh, Whh, Why, bh, by)


def forward(inputs: Sequence[int], hprev: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The forward pass of ``lossFun`` alone, stacked: ``hs (T, H)``, ``ys (T, V)``, ``ps (T, V)``.

    h_t = tanh(Wxh x_t + Whh h_{t-1} + bh), y_t = Why h_t + by, p_t = softmax(y_t); for tables and plots.
    """
    Wxh, Whh, Why, bh, by = params.as_list()
    h = np.copy(hprev)
    hs, ys, ps = [], [], []
    for ix in inputs:
        x = np.zeros((Wxh.shape[1], 1))
        x[ix] = 1
        h = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)
        y = np.dot(Why, h) + by
        hs.append(h.ravel())
        ys.append(y.ravel())
        ps.append((np.exp(y) / np.sum(np.exp(y))).ravel())
    return np.array(hs), np.array(ys), np.array(ps)


def lossFun(inputs: Sequence[int], targets: Sequence[int], hprev: np.ndarray, params: Params,
            clip: float | None = CLIP):
    """The listing's ``lossFun``: forward and backward through one chunk of ``len(inputs)`` characters.

    inputs, targets are both lists of integers; hprev is the (H, 1) initial hidden state.
    Returns ``loss, dWxh, dWhh, dWhy, dbh, dby, h_last``: the summed cross-entropy, the gradients (each clipped
    element-wise to [-clip, clip]; ``clip=None`` returns them raw) and the last hidden state.
    """
    Wxh, Whh, Why, bh, by = params.as_list()
    vocab_size = Wxh.shape[1]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    # forward pass
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))  # encode in 1-of-k representation
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)  # hidden state
        ys[t] = np.dot(Why, hs[t]) + by  # unnormalized log probabilities for next chars
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))  # probabilities for next chars
        loss += -np.log(ps[t][targets[t], 0])  # softmax (cross-entropy loss)
    # backward pass: compute gradients going backwards
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1  # backprop into y
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext  # backprop into h
        dhraw = (1 - hs[t] * hs[t]) * dh  # backprop through tanh nonlinearity
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    if clip is not None:
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -clip, clip, out=dparam)  # clip to mitigate exploding gradients
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def sample(h: np.ndarray, seed_ix: int, n: int, params: Params, temperature: float = 1.0) -> list[int]:
    """Sample ``n`` character indices, feeding each one back in; ``h`` (H, 1) is the memory, ``seed_ix`` the first input.

    p = softmax(y / temperature), drawn with ``np.random.choice`` on the legacy global generator (as the listing).
    ``temperature=1`` is the listing's sampler exactly; lower is greedier, higher is more random.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    Wxh, Whh, Why, bh, by = params.as_list()
    vocab_size = Wxh.shape[1]
    x = np.zeros((vocab_size, 1))
    x[seed_ix] = 1
    ixes = []
    for t in range(n):
        h = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)
        y = np.dot(Why, h) + by
        if temperature != 1.0:
            y = y / temperature
            y = y - np.max(y)  # exp(y / T) overflows for small T otherwise; the softmax is unchanged
        p = np.exp(y) / np.sum(np.exp(y))
        if not np.all(np.isfinite(p)):
            raise DivergenceError("sample: the probabilities are NaN or inf, the weights have diverged (or hold "
                                  "NaN); train again with a lower learning rate or with clipping")
        ix = np.random.choice(range(vocab_size), p=p.ravel())
        x = np.zeros((vocab_size, 1))
        x[ix] = 1
        ixes.append(ix)
    return ixes


def adagrad_update(params: Params, grads: Sequence[np.ndarray], mems: Sequence[np.ndarray],
                   learning_rate: float = LEARNING_RATE) -> None:
    """In place: mem += dparam^2; param -= learning_rate * dparam / sqrt(mem + 1e-8)."""
    for param, dparam, mem in zip(params.as_list(), grads, mems):
        mem += dparam * dparam
        param += -learning_rate * dparam / np.sqrt(mem + 1e-8)  # adagrad update


def check_loss(loss: float, n: int, learning_rate: float, clip: float | None) -> None:
    """Raise ``DivergenceError`` when an iteration's loss is NaN or inf, naming the learning rate and clipping."""
    if not np.isfinite(loss):
        raise DivergenceError(
            f"the loss became {loss} at iteration {n} (learning_rate={learning_rate}, clip={clip}): the weights "
            f"diverged. Lower the learning rate (the listing uses {LEARNING_RATE}) or clip the gradients "
            f"(clip={CLIP})")


def seed_index(char_to_ix: dict[str, int], seed_char: str) -> int:
    """The index of ``seed_char``; a character outside the vocabulary is a ValueError naming the argument."""
    if not (isinstance(seed_char, str) and len(seed_char) == 1):
        raise ValueError(f"seed_char must be one character, got {seed_char!r}")
    if seed_char not in char_to_ix:
        raise ValueError(f"seed_char {seed_char!r} is not in the model's vocabulary of {len(char_to_ix)} characters "
                         f"({''.join(sorted(char_to_ix))[:40]!r}...); start from a character of the training text")
    return char_to_ix[seed_char]


def check_data(data: str, seq_length: int = SEQ_LENGTH, source: str = "the text") -> str:
    """Return ``data`` when it can train min-char-rnn: a str of at least ``seq_length + 1`` characters."""
    if not isinstance(data, str):
        raise TypeError(f"expected the training text as str, got {type(data).__name__}")
    if seq_length < 1:
        raise ValueError(f"seq_length must be >= 1, got {seq_length}")
    if len(data) < seq_length + 1:
        raise ValueError(
            f"{source} has {len(data)} characters; min-char-rnn needs at least seq_length + 1 = {seq_length + 1} "
            "(a chunk of inputs and the targets one character later). Use a longer text or a smaller seq_length."
        )
    return data


def load_data(path: str | Path, seq_length: int = SEQ_LENGTH) -> str:
    """Read a UTF-8 text file for training; clear errors for a missing, empty, non-UTF-8 or too short file."""
    return check_data(read_text(path), seq_length, source=str(path))


class MinCharRNN:
    """The listing's training loop, one iteration per ``step()``, with its state as attributes.

    ``n`` iteration counter, ``p`` data pointer, ``hprev`` (H, 1) memory carried between chunks, ``params``,
    ``mems`` (Adagrad memories), ``smooth_loss``; ``losses[i]`` and ``smooth_losses[i]`` are the loss of
    iteration i's chunk and the smooth loss after it; ``samples[n]`` is the text sampled at iteration n.
    Give ``seed`` to call ``np.random.seed(seed)`` before the weights are drawn (the legacy global generator).
    """

    def __init__(self, data: str, hidden_size: int = HIDDEN_SIZE, seq_length: int = SEQ_LENGTH,
                 learning_rate: float = LEARNING_RATE, seed: int | None = None):
        self.data = check_data(data, seq_length)
        self.chars, self.char_to_ix, self.ix_to_char = build_vocab(data)
        self.data_size, self.vocab_size = len(data), len(self.chars)
        self.hidden_size, self.seq_length, self.learning_rate = hidden_size, seq_length, learning_rate
        if seed is not None:
            np.random.seed(seed)
        self.params = init_params(self.vocab_size, hidden_size)
        self.n, self.p = 0, 0
        self.mems = [np.zeros_like(param) for param in self.params.as_list()]  # memory variables for Adagrad
        self.hprev = np.zeros((hidden_size, 1))
        self.smooth_loss = -np.log(1.0 / self.vocab_size) * seq_length  # loss at iteration 0
        self.losses: list[float] = []
        self.smooth_losses: list[float] = []
        self.samples: dict[int, str] = {}

    def header(self) -> str:
        return "data has %d characters, %d unique." % (self.data_size, self.vocab_size)

    def sample_text(self, n: int = SAMPLE_LENGTH, h: np.ndarray | None = None, seed_char: str | None = None,
                    temperature: float = 1.0) -> str:
        """Sample ``n`` characters from the current model, from memory ``h`` (default hprev) after ``seed_char``."""
        seed_ix = seed_index(self.char_to_ix, seed_char) if seed_char is not None else self.chunk()[0][0]
        ixes = sample(self.hprev if h is None else h, seed_ix, n, self.params, temperature)
        return "".join(self.ix_to_char[ix] for ix in ixes)

    def chunk(self) -> tuple[list[int], list[int]]:
        """The listing's ``inputs`` and ``targets`` at the data pointer p: the indices of data[p:p+T] and of
        data[p+1:p+T+1] (T = seq_length), the chunk the next ``step`` trains on."""
        p, T = self.p, self.seq_length
        inputs = [self.char_to_ix[ch] for ch in self.data[p:p + T]]
        targets = [self.char_to_ix[ch] for ch in self.data[p + 1:p + T + 1]]
        return inputs, targets

    def step(self, sample_every: int = SAMPLE_EVERY, sample_length: int = SAMPLE_LENGTH) -> list[str]:
        """One iteration of the listing's ``while True`` loop; returns the lines it prints (maybe none)."""
        lines = []
        # prepare inputs (we're sweeping from left to right in steps seq_length long)
        if self.p + self.seq_length + 1 >= len(self.data) or self.n == 0:
            self.hprev = np.zeros((self.hidden_size, 1))  # reset RNN memory
            self.p = 0  # go from start of data
        inputs, targets = self.chunk()
        # forward seq_length characters through the net and fetch gradient (before sampling, which draws from
        # the same hprev: the loss says first when the weights have diverged; no random numbers are used here)
        hprev = self.hprev
        loss, dWxh, dWhh, dWhy, dbh, dby, self.hprev = lossFun(inputs, targets, hprev, self.params)
        check_loss(loss, self.n, self.learning_rate, CLIP)
        # sample from the model now and then
        if sample_every and self.n % sample_every == 0:
            sample_ix = sample(hprev, inputs[0], sample_length, self.params)
            txt = "".join(self.ix_to_char[ix] for ix in sample_ix)
            self.samples[self.n] = txt
            lines.append("----\n %s \n----" % (txt,))
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        self.losses.append(float(loss))
        self.smooth_losses.append(float(self.smooth_loss))
        if sample_every and self.n % sample_every == 0:
            lines.append("iter %d, loss: %f" % (self.n, self.smooth_loss))  # print progress
        # perform parameter update with Adagrad
        adagrad_update(self.params, [dWxh, dWhh, dWhy, dbh, dby], self.mems, self.learning_rate)
        self.p += self.seq_length  # move data pointer
        self.n += 1  # iteration counter
        return lines

    def train(self, iters: int, sample_every: int = SAMPLE_EVERY, sample_length: int = SAMPLE_LENGTH,
              echo: Callable[[str], object] | None = None) -> "MinCharRNN":
        """Run ``iters`` iterations; each printed line goes to ``echo`` (e.g. ``print``; None keeps quiet)."""
        if iters < 0:
            raise ValueError(f"iters must be >= 0, got {iters}")
        for _ in range(iters):
            for line in self.step(sample_every, sample_length):
                if echo is not None:
                    echo(line)
        return self


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rnnbook.minchar DATA_FILE --seed S --iters N [--sample-every K]``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m rnnbook.minchar",
        description="Train Karpathy's min-char-rnn (faithful Python 3 port) on a UTF-8 text file and print "
                    "the listing's lines: samples and 'iter N, loss: L' every K iterations.")
    parser.add_argument("data_file", metavar="DATA_FILE", help="plain UTF-8 text file to train on")
    parser.add_argument("--seed", type=int, default=0, help="np.random.seed before the weights are drawn (default 0)")
    parser.add_argument("--iters", type=int, default=None,
                        help="number of iterations (default: run until Ctrl-C, as the listing does)")
    parser.add_argument("--sample-every", type=int, default=SAMPLE_EVERY, metavar="K",
                        help=f"sample and print the loss every K iterations (default {SAMPLE_EVERY})")
    parser.add_argument("--hidden-size", type=int, default=HIDDEN_SIZE, help=f"default {HIDDEN_SIZE}")
    parser.add_argument("--seq-length", type=int, default=SEQ_LENGTH, help=f"default {SEQ_LENGTH}")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE, help=f"default {LEARNING_RATE}")
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 0:
        parser.error(f"--iters must be >= 0, got {args.iters}")
    if args.sample_every < 1:
        parser.error(f"--sample-every must be >= 1, got {args.sample_every}")
    if args.hidden_size < 1 or args.seq_length < 1:
        parser.error("--hidden-size and --seq-length must be >= 1")
    try:
        data = load_data(args.data_file, args.seq_length)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    model = MinCharRNN(data, args.hidden_size, args.seq_length, args.learning_rate, seed=args.seed)
    print(model.header(), flush=True)
    try:
        while args.iters is None or model.n < args.iters:
            for line in model.step(args.sample_every):
                print(line, flush=True)
    except KeyboardInterrupt:
        print(f"stopped at iteration {model.n}", file=sys.stderr)
        return 130
    except DivergenceError as err:
        print(f"error: {err} (--learning-rate)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
