"""BLEU for captions, computed by sacrebleu (a maintained implementation; no hand-written BLEU).

BLEU-n is the geometric mean of the clipped 1..n-gram precisions of the generated captions against all the
references of their image, times a brevity penalty. Scores here are in [0, 1] (sacrebleu reports 0-100).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
