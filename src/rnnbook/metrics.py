"""What the book measures, in one place: nats, bits and perplexity; BLEU; accuracy; AUC.

    bits = nats / ln 2                     (the same cross-entropy, in base 2)
    perplexity = exp(nats) = 2 ** bits     (the number of equally likely choices that loss amounts to)
    accuracy = (1/N) sum_n [predicted_n = target_n]
    AUC = P(score of a positive > score of a negative) + P(tie) / 2

BLEU goes through sacrebleu and AUC through scikit-learn (maintained implementations; no hand-written copies).
This module imports numpy only at the top (torch is imported inside the functions that run a model), so the numpy
programs of the book (``rnnbook.ngram``) can report an ``Evaluation`` without loading torch.
How much attention falls on the object a word names (grounding) is measured in ``rnnbook.grounding``, beside the
object masks it needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnbook.data.sequences import look_back_targets
from rnnbook.data.translation import PAD, Pairs
from rnnbook.data.vqa import QUESTION_TYPES, Questions


def bits(nats: float) -> float:
    """A cross-entropy in nats, in bits: nats / ln 2."""
    return nats / math.log(2)


def perplexity(nats: float) -> float:
    """exp(nats): the number of equally likely choices a loss of ``nats`` per prediction amounts to."""
    return math.exp(nats)


@dataclass(frozen=True)
class Evaluation:
    """Mean cross-entropy over ``count`` scored targets, in nats; ``bits`` per character = nats / ln 2."""

    nats: float
    accuracy: float
    count: int

    @property
    def bits(self) -> float:
        return bits(self.nats)

    @property
    def perplexity(self) -> float:
        return perplexity(self.nats)

    def __str__(self) -> str:
        return f"{self.nats:.4f} nats/char = {self.bits:.4f} bits/char (accuracy {self.accuracy:.3f}, n={self.count})"


# --- BLEU (sacrebleu) ---------------------------------------------------------------------------------------------
# BLEU-n is the geometric mean of the clipped 1..n-gram precisions of the generated captions against all the
# references of their image, times a brevity penalty. Scores here are in [0, 1] (sacrebleu reports 0-100).

def _streams(references: Sequence[Sequence[str]]) -> list[list[str]]:
    """sacrebleu's layout: one stream per reference slot; images with fewer references repeat their last one
    (a duplicate reference changes neither the clipped counts nor the closest reference length)."""
    if not references or any(len(r) == 0 for r in references):
        raise ValueError("caption BLEU: every image needs at least one reference caption")
    k = max(len(r) for r in references)
    return [[r[min(j, len(r) - 1)] for r in references] for j in range(k)]


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]], max_order: int = 4) -> dict[str, float]:
    """{'BLEU-1': .., ..., 'BLEU-max_order': ..} in [0, 1] over the whole test set (sacrebleu.metrics.BLEU)."""
    from sacrebleu.metrics import BLEU

    if len(hypotheses) != len(references):
        raise ValueError(f"corpus_bleu: {len(hypotheses)} hypotheses but {len(references)} reference lists")
    refs = _streams(references)
    return {f"BLEU-{n}": BLEU(max_ngram_order=n).corpus_score(list(hypotheses), refs).score / 100.0
            for n in range(1, max_order + 1)}


def sentence_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> np.ndarray:
    """Per-caption BLEU-4 in [0, 1] (sacrebleu.sentence_bleu, smoothed), to rank captions, e.g. find failures."""
    from sacrebleu import sentence_bleu as _sb

    if len(hypotheses) != len(references):
        raise ValueError(f"sentence_bleu: {len(hypotheses)} hypotheses but {len(references)} reference lists")
    return np.array([_sb(h, list(r)).score / 100.0 for h, r in zip(hypotheses, references)])


# --- accuracy -----------------------------------------------------------------------------------------------------

def accuracy(predicted, target) -> float:
    """Share of predictions equal to their target: predicted and target of the same shape, e.g. (N,) (numpy, or
    torch on the CPU)."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.shape != target.shape or predicted.size == 0:
        raise ValueError(f"accuracy: predicted and target must have the same non-empty shape, got "
                         f"{predicted.shape} and {target.shape}")
    return float((predicted == target).mean())


def accuracy_by_type(predicted: np.ndarray, questions: Questions) -> dict[str, float]:
    """Share of correct answers for each question type, and ``"all"``."""
    predicted = np.asarray(predicted)
    if predicted.shape != questions.answers.shape:
        raise ValueError(f"predicted must have shape {questions.answers.shape}, got {predicted.shape}")
    correct = predicted == questions.answers
    out = {name: float(correct[questions.qtype == k].mean()) for k, name in enumerate(QUESTION_TYPES)
           if np.any(questions.qtype == k)}
    out["all"] = float(correct.mean())
    return out


def glimpse_accuracy(model, x, y) -> float:
    """Fraction of images ``x`` (N, H, W) a ``GlimpseClassifier`` classifies as ``y`` (N,); the model is left in
    eval mode."""
    import torch

    model.eval()
    with torch.no_grad():
        return accuracy(model(x)[0].argmax(-1).cpu(), y.cpu())


def exact_match(model, pairs: Pairs, device="cpu") -> np.ndarray:
    """(N,) bool: the greedy translation of a ``Seq2Seq`` equals the target exactly (every digit and the EOS)."""
    import torch

    src, src_len = torch.as_tensor(pairs.src, device=device), torch.as_tensor(pairs.src_len, device=device)
    want = pairs.tgt[:, 1:]
    ids, _ = model.greedy(src, src_len, max_len=want.shape[1])
    got = np.full(want.shape, PAD, dtype=np.int64)
    got[:, : ids.shape[1]] = ids.cpu().numpy()
    return np.all(got == want, axis=1)


def accuracy_by_length(model, pairs: Pairs, device="cpu") -> dict[int, float]:
    """Exact-match accuracy per number of digits (the input grows with it): {digits: fraction correct}."""
    ok = exact_match(model, pairs, device)
    return {int(d): float(ok[pairs.digits == d].mean()) for d in np.unique(pairs.digits)}


# --- AUC (scikit-learn) -------------------------------------------------------------------------------------------

def column_ranks(acts: np.ndarray) -> np.ndarray:
    """Ranks 1..T within every column of ``acts`` (T, U), tied values given their average rank (what
    ``scipy.stats.rankdata(acts, axis=0)`` gives), with one argsort per column."""
    a = np.ascontiguousarray(np.asarray(acts, dtype=np.float64).T)  # (U, T): one contiguous row per unit
    U, T = a.shape
    order = np.argsort(a, axis=1)
    v = np.take_along_axis(a, order, axis=1)
    idx = np.broadcast_to(np.arange(T), (U, T))
    changes = np.diff(v, axis=1) != 0
    starts = np.concatenate([np.ones((U, 1), bool), changes], axis=1)  # first position of each run of ties
    ends = np.concatenate([changes, np.ones((U, 1), bool)], axis=1)  # last position of each run
    first = np.maximum.accumulate(np.where(starts, idx, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, idx, T)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty_like(a)
    np.put_along_axis(ranks, order, (first + last) / 2 + 1, axis=1)
    return ranks.T


def auc(scores, labels, ranks: np.ndarray | None = None):
    """Area under the ROC curve of ``scores`` (T,) for the binary ``labels`` (T,), ties counted half: the
    probability that a random positive scores above a random negative (``sklearn.metrics.roc_auc_score``).

    ``scores`` (T, U) scores U columns (every unit of a layer) against the same labels and returns (U,), all at
    once: the Mann-Whitney form (rank sum of the positives - n1 (n1 + 1) / 2) / (n1 n0) from ``column_ranks``, the
    same number as ``roc_auc_score`` column by column but one sort per column instead of a call per column.
    ``ranks`` (T, U), the column ranks of ``scores``, may be passed in to rank once for several features.
    """
    from sklearn.metrics import roc_auc_score

    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    if scores.ndim not in (1, 2) or labels.shape != scores.shape[:1]:
        raise ValueError(f"auc: expected scores (T,) or (T, U) and labels (T,), got {scores.shape} and "
                         f"{labels.shape}")
    n1 = int(labels.sum())
    n0 = len(labels) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError(f"auc needs both classes; the labels hold {n1} positives and {n0} negatives: "
                         "use a longer text that contains the feature")
    if scores.ndim == 1:
        return float(roc_auc_score(labels, scores))
    if ranks is None:
        ranks = column_ranks(scores)
    return (ranks[labels].sum(0) - n1 * (n1 + 1) / 2) / (n1 * n0)


def look_back_accuracy(model, x) -> tuple[float, float]:
    """Accuracy of ``LookBack``'s two read-outs (x_{t-1}, x_{t-2}) over the positions t >= 2 of the tokens ``x``
    (N, T)."""
    import torch

    with torch.no_grad():
        logits = model(x)
    a1, a2 = (accuracy(read[:, 2:].argmax(-1).cpu(), target.cpu())
              for read, target in zip(logits, look_back_targets(x)))
    return a1, a2
