"""rnnbook.metrics: nats, bits and perplexity; BLEU against sacrebleu; accuracy; AUC against a pair count."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from rnnbook.data.vqa import ANSWERS, QUESTION_TYPES
from rnnbook.metrics import (
    Evaluation,
    accuracy,
    accuracy_by_type,
    auc,
    bits,
    column_ranks,
    corpus_bleu,
    perplexity,
    sentence_bleu,
)


def test_caption_bleu_against_known_values():
    from rnnbook.metrics import corpus_bleu, sentence_bleu

    refs = [["a red circle", "there is a red circle"], ["a blue square left of a red circle"]]
    perfect = corpus_bleu(["there is a red circle", "a blue square left of a red circle"], refs)
    assert all(v == pytest.approx(1.0) for v in perfect.values()) and list(perfect) == [f"BLEU-{n}" for n in range(1, 5)]
    # one word wrong out of 8: unigram precision 7/8 on that caption, 10/11 over the corpus (3 + 8 words)
    one_off = corpus_bleu(["a red circle", "a blue square left of a red square"], refs)
    assert one_off["BLEU-1"] == pytest.approx(10 / 11)
    assert 0 < one_off["BLEU-4"] < one_off["BLEU-2"] < one_off["BLEU-1"] < 1
    s = sentence_bleu(["a red circle", "a green triangle"], [["a red circle"], ["a blue square"]])
    assert s[0] == pytest.approx(1.0) and s[1] < 0.3
    with pytest.raises(ValueError):
        corpus_bleu(["x"], [[]])


def test_nats_bits_perplexity_by_hand():
    # a model that spreads its mass evenly over 8 characters: ln 8 nats = 3 bits, perplexity 8
    e = Evaluation(math.log(8), 0.125, 10)
    assert e.bits == pytest.approx(3.0) and e.perplexity == pytest.approx(8.0)
    assert bits(1.0) == pytest.approx(1.4426950408889634) and perplexity(0.0) == 1.0
    assert "3.0000 bits/char" in str(e)
    assert 2 ** bits(1.7) == pytest.approx(perplexity(1.7))  # the same loss in base 2 and base e


def test_bleu_is_sacrebleu_in_0_1():
    from sacrebleu.metrics import BLEU

    hyps = ["a red circle left of a blue square", "a green triangle"]
    refs = [["a red circle left of a blue square", "there is a red circle"], ["a green square"]]
    # sacrebleu's own layout: one stream per reference slot, the image with one reference repeats it
    want = BLEU(max_ngram_order=2).corpus_score(hyps, [[refs[0][0], refs[1][0]], [refs[0][1], refs[1][0]]]).score
    assert corpus_bleu(hyps, refs, max_order=2)["BLEU-2"] == pytest.approx(want / 100)
    assert corpus_bleu(hyps[:1], refs[:1])["BLEU-4"] == pytest.approx(1.0)
    from sacrebleu import sentence_bleu as sb

    np.testing.assert_allclose(sentence_bleu(hyps, refs), [sb(h, r).score / 100 for h, r in zip(hyps, refs)])
    with pytest.raises(ValueError, match="hypotheses"):
        corpus_bleu(hyps, refs[:1])


def test_auc_against_a_brute_force_pair_count():
    rng = np.random.default_rng(0)
    labels = rng.random(60) < 0.4
    scores = np.round(labels + rng.normal(size=60), 1)  # rounded: there are ties
    pos, neg = scores[labels], scores[~labels]
    pairs = [(p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg)]
    assert auc(scores, labels) == pytest.approx(np.mean(pairs), abs=1e-12)
    assert auc(-scores, labels) == pytest.approx(1 - np.mean(pairs), abs=1e-12)
    np.testing.assert_allclose(auc(np.stack([scores, -scores], 1), labels), [np.mean(pairs), 1 - np.mean(pairs)])
    with pytest.raises(ValueError, match="both classes"):
        auc(scores, np.zeros(60, bool))
    with pytest.raises(ValueError, match=r"scores \(T,\)"):
        auc(scores[:10], labels)


def test_accuracy():
    assert accuracy([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    with pytest.raises(ValueError, match="same non-empty shape"):
        accuracy([1, 2], [1])


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(1)
    labels = rng.random(300) < 0.2
    acts = np.stack([labels + rng.normal(size=300), rng.integers(0, 3, 300).astype(float), -1.0 * labels,
                     rng.normal(size=300)], axis=1)
    got = auc(acts, labels)
    for u in range(acts.shape[1]):
        assert got[u] == pytest.approx(roc_auc_score(labels, acts[:, u]), abs=1e-12)
    with pytest.raises(ValueError, match="both classes"):
        auc(acts, np.zeros(300, bool))


def test_column_ranks_match_scipy():
    from scipy.stats import rankdata

    rng = np.random.default_rng(6)
    a = np.stack([rng.normal(size=50), rng.integers(0, 4, 50).astype(float), np.zeros(50)], axis=1)
    np.testing.assert_array_equal(column_ranks(a), rankdata(a, axis=0))


def test_accuracy_by_type(data):
    _, q = data
    acc = accuracy_by_type(q.answers, q)
    assert all(v == 1.0 for v in acc.values()) and set(acc) == {*QUESTION_TYPES, "all"}
    wrong = q.answers.copy()
    wrong[q.qtype == 0] = (wrong[q.qtype == 0] + 1) % len(ANSWERS)
    acc = accuracy_by_type(wrong, q)
    assert acc["colour"] == 0.0 and acc["shape"] == 1.0
    assert np.isclose(acc["all"], 1 - np.mean(q.qtype == 0))
    with pytest.raises(ValueError):
        accuracy_by_type(q.answers[:-1], q)
