"""The baseline a reader tries first: a character n-gram model with interpolated Kneser-Ney smoothing.

An n-gram model predicts the next character from the previous n - 1 only. Counts alone give zero probability to
anything unseen, so each order is discounted by D and mixed with the order below (Kneser & Ney, 1995; Chen &
Goodman, 1999):

    p_m(w | h) = [max(c_m(h w) - D_m, 0) + D_m * N1+(h .) * p_{m-1}(w | h')] / c_m(h .)      m = 1 .. order

where h is the last m - 1 characters, h' is h without its first character, c_m(h .) = sum_w c_m(h w),
N1+(h .) = the number of distinct w with c_m(h w) > 0, and the recursion ends in the uniform distribution
p_0(w) = 1 / V over the whole vocabulary. The top order uses raw counts; the lower orders use *continuation* counts,
c_m(h w) = N1+(. h w), the number of distinct characters seen before h w, which is Kneser-Ney's idea. A context
never seen gets p_m = p_{m-1} (backoff). D_m = n1 / (n1 + 2 n2) from the number of m-grams seen once (n1) and twice
(n2); when no m-gram was seen once that estimate is 0, so D_m = 0.5 instead. With 0 < D_m <= 1 every order passes
a share of its mass down to p_0: every character of the vocabulary, even one never seen in training, gets a
probability above zero, and a loss is always finite.

Everything is vectorised with numpy: an m-gram is one int64 key sum_j w_j V^(m-1-j), counted with ``np.unique``
and looked up with ``np.searchsorted``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnbook.metrics import Evaluation


@dataclass
class _Table:
    """One order: sorted m-gram keys with their counts, and per-context totals and numbers of distinct followers."""

    keys: np.ndarray
    counts: np.ndarray
    ctx_keys: np.ndarray
    ctx_total: np.ndarray
    ctx_types: np.ndarray
    discount: float


def _table(keys: np.ndarray, counts: np.ndarray, V: int) -> _Table:
    ctx = keys // V  # keys are sorted, so their contexts are too
    ctx_keys, starts = np.unique(ctx, return_index=True)
    n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
    discount = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5  # never 0: some mass always reaches the uniform p_0
    return _Table(keys, counts, ctx_keys, np.add.reduceat(counts, starts), np.diff(np.append(starts, len(keys))),
                  discount)


def _lookup(sorted_keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos = np.minimum(np.searchsorted(sorted_keys, query), max(len(sorted_keys) - 1, 0))
    return pos, (sorted_keys[pos] == query) if len(sorted_keys) else np.zeros(len(query), bool)


class NGramLM:
    """Interpolated Kneser-Ney character n-gram model of order ``order`` (it reads ``order - 1`` characters back)."""

    def __init__(self, order: int = 5, vocab_size: int = 256):
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        if order * math.log2(vocab_size) >= 62:
            raise ValueError(f"order {order} with {vocab_size} symbols overflows int64 n-gram keys; "
                             f"use order <= {int(61 // math.log2(vocab_size))}")
        self.order, self.V = order, vocab_size
        self.tables: list[_Table] = []

    def fit(self, ids: np.ndarray) -> NGramLM:
        """Count every m-gram (m = 1..order) of the 1-D id stream ``ids``."""
        ids = self._check_ids(ids, "ids")
        if len(ids) < self.order:
            raise ValueError(f"expected a 1-D stream of at least {self.order} ids, got {len(ids)}")
        keys = [ids]  # keys[m-1][i] = key of ids[i : i + m]
        for m in range(2, self.order + 1):
            keys.append(keys[-1][:-1] * self.V + ids[m - 1:])
        uniques = [np.unique(k, return_counts=True) for k in keys]
        self.tables = []
        for m in range(1, self.order + 1):
            if m == self.order:
                k, c = uniques[m - 1]  # the top order: raw counts
            else:  # lower orders: continuation counts, the number of distinct characters seen before h w
                k, c = np.unique(uniques[m][0] % self.V**m, return_counts=True)
            self.tables.append(_table(k, c, self.V))
        return self

    def _probs(self, context: np.ndarray, target: np.ndarray) -> np.ndarray:
        """p(target | context) for rows of ``context`` (B, order - 1), where -1 marks 'no character' (text start)."""
        if not self.tables:
            raise RuntimeError("call fit(ids) before asking for probabilities")
        p = np.full(len(target), 1.0 / self.V)
        key = target.astype(np.int64)
        have = np.ones(len(target), bool)
        for m, table in enumerate(self.tables, start=1):
            if m > 1:
                prev = context[:, -(m - 1)]
                have &= prev >= 0
                key = key + np.maximum(prev, 0) * self.V ** (m - 1)
            ctx = key // self.V
            cpos, cfound = _lookup(table.ctx_keys, ctx)
            pos, found = _lookup(table.keys, key)
            count = np.where(found, table.counts[pos], 0)
            total, types = table.ctx_total[cpos], table.ctx_types[cpos]
            D = table.discount
            mixed = (np.maximum(count - D, 0.0) + D * types * p) / np.maximum(total, 1)
            p = np.where(cfound & have, mixed, p)
        return p

    def _contexts(self, ids: np.ndarray) -> np.ndarray:
        n = self.order - 1
        padded = np.concatenate([np.full(n, -1, dtype=np.int64), ids])
        return np.lib.stride_tricks.sliding_window_view(padded, n)[: len(ids)]

    def _check_ids(self, ids: np.ndarray, name: str) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} must be a 1-D array of integer ids, got shape {ids.shape} of {ids.dtype}")
        if len(ids) and (ids.min() < 0 or ids.max() >= self.V):
            raise ValueError(f"{name} must be in 0..{self.V - 1} (the vocabulary the model was made with), "
                             f"got {ids.min()}..{ids.max()}; encode the text with the same Vocab")
        return ids.astype(np.int64)

    def log_probs(self, ids: np.ndarray) -> np.ndarray:
        """ln p(ids[t] | ids[t-order+1 .. t-1]) for t = 1 .. len(ids) - 1 (the first id is only context)."""
        ids = self._check_ids(ids, "ids")
        return np.log(self._probs(self._contexts(ids)[1:], ids[1:]))

    def evaluate(self, ids: np.ndarray, accuracy: bool = False) -> Evaluation:
        """Mean cross-entropy in nats per character on ``ids`` (``.bits`` in bits); with ``accuracy=True`` also how
        often the most likely character is the right one (V times slower; NaN otherwise)."""
        ids = self._check_ids(ids, "ids")
        if len(ids) < 2:
            raise ValueError("evaluate needs at least 2 ids (a context and a target)")
        nats = -float(self.log_probs(ids).mean())
        if not accuracy:
            return Evaluation(nats, float("nan"), len(ids) - 1)
        ctx = self._contexts(ids)[1:]
        best, best_p = np.zeros(len(ctx), np.int64), np.zeros(len(ctx))
        for w in range(self.V):
            pw = self._probs(ctx, np.full(len(ctx), w))
            best = np.where(pw > best_p, w, best)
            best_p = np.maximum(pw, best_p)
        return Evaluation(nats, float((best == ids[1:]).mean()), len(ids) - 1)

    def next_probs(self, context_ids: np.ndarray) -> np.ndarray:
        """The distribution (V,) of the next character after ``context_ids`` (its last order - 1 ids count)."""
        ctx = np.full(self.order - 1, -1, dtype=np.int64)
        context = np.asarray(context_ids)
        context = self._check_ids(context.astype(np.int64) if context.size == 0 else context, "context_ids")
        tail = context[-(self.order - 1):] if self.order > 1 else []
        if len(tail):
            ctx[-len(tail):] = tail
        p = self._probs(np.tile(ctx, (self.V, 1)), np.arange(self.V))
        return p / p.sum()

    def sample(self, vocab, prime: str, n: int = 200, seed: int = 0) -> str:
        """``prime`` followed by ``n`` characters drawn one at a time. ``vocab`` is an ``rnnbook.data.Vocab``."""
        rng = np.random.default_rng(seed)
        ids = list(vocab.encode(prime))
        for _ in range(n):
            ids.append(int(rng.choice(self.V, p=self.next_probs(np.array(ids)))))
        return vocab.decode(ids)
