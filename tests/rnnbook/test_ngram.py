"""The Kneser-Ney n-gram baseline against a brute-force dictionary implementation of the same formula."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from rnnbook.data import Vocab
from rnnbook.ngram import NGramLM


def test_ngram_loads_no_torch():
    """The n-gram baseline is numpy only: importing and evaluating it must not import torch."""
    code = ("import sys, numpy as np\n"
            "from rnnbook.ngram import NGramLM\n"
            "ids = np.tile(np.arange(5), 40)\n"
            "e = NGramLM(3, 5).fit(ids).evaluate(ids)\n"
            "print(type(e).__module__, e.bits < 1, sorted(k for k in sys.modules if k.split('.')[0] == 'torch')[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["rnnbook.metrics", "True", "[]"]


def _markov_text(n: int, V: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(V) * 0.5, size=(V, V))  # second-order chain
    ids = [0, 1]
    for _ in range(n - 2):
        ids.append(int(rng.choice(V, p=P[ids[-2], ids[-1]])))
    return np.array(ids)


def _kn_reference(train: list[int], order: int, V: int):
    """Interpolated Kneser-Ney written out with Counters and loops."""
    grams = {m: Counter(tuple(train[i:i + m]) for i in range(len(train) - m + 1)) for m in range(1, order + 1)}
    table = {m: grams[m] if m == order else Counter(g[1:] for g in grams[m + 1]) for m in range(1, order + 1)}
    D = {}
    for m, t in table.items():
        n1, n2 = sum(c == 1 for c in t.values()), sum(c == 2 for c in t.values())
        D[m] = n1 / (n1 + 2 * n2) if n1 else 0.5  # no m-gram seen once: 0.5, so that unseen ones keep some mass

    def prob(history: tuple[int, ...], w: int) -> float:
        p = 1.0 / V
        for m in range(1, order + 1):
            if m - 1 > len(history):
                break
            h = history[len(history) - (m - 1):] if m > 1 else ()
            total = sum(table[m][h + (v,)] for v in range(V))
            if total == 0:
                continue
            types = sum(table[m][h + (v,)] > 0 for v in range(V))
            p = (max(table[m][h + (w,)] - D[m], 0) + D[m] * types * p) / total
        return p

    return prob


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_the_brute_force_reference(order):
    V = 6
    text = _markov_text(1500, V)
    train, val = text[:1200], text[1200:]
    model = NGramLM(order, V).fit(train)
    assert 0 < model.tables[-1].discount < 1  # the discount formula is exercised, not its fallback
    prob = _kn_reference(train.tolist(), order, V)
    want = [math.log(prob(tuple(val[max(0, t - order + 1):t].tolist()), int(val[t]))) for t in range(1, len(val))]
    np.testing.assert_allclose(model.log_probs(val), want, rtol=1e-10)


def test_a_text_of_one_character_matches_the_reference():
    V, order = 4, 3
    train = np.full(30, 1)  # every table holds one key: a character above it is looked up past the table's end
    model = NGramLM(order, V).fit(train)
    prob = _kn_reference(train.tolist(), order, V)
    val = np.array([1, 1, 3, 0, 1, 2, 2, 1])
    want = [math.log(prob(tuple(val[max(0, t - order + 1):t].tolist()), int(val[t]))) for t in range(1, len(val))]
    np.testing.assert_allclose(model.log_probs(val), want, rtol=1e-10)


@pytest.mark.parametrize("order", [1, 3, 6])
def test_next_char_distribution_sums_to_one(order):
    V = 5
    train = np.random.default_rng(0).integers(0, V, 2000)
    model = NGramLM(order, V).fit(train)
    rng = np.random.default_rng(1)
    for length in [0, 1, 2, 5, 8]:
        ctx = rng.integers(0, V, length)
        p = model._probs(np.tile(np.concatenate([np.full(max(0, order - 1 - length), -1), ctx])[-(order - 1):]
                                 if order > 1 else np.zeros(0, np.int64), (V, 1)), np.arange(V))
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and (p > 0).all()


def test_more_context_helps_on_a_second_order_chain():
    text = _markov_text(22000)
    train, val = text[:20000], text[20000:]
    losses = [NGramLM(n, 4).fit(train).evaluate(val).nats for n in (1, 2, 3)]
    assert losses[0] > losses[1] > losses[2]
    assert losses[0] <= math.log(4) + 0.01


def test_a_repeating_text_is_almost_certain_and_accuracy_matches_next_probs():
    ids = np.tile(np.arange(5), 200)
    ids[::37] = 4  # a little noise, so that the discounts are not degenerate
    model = NGramLM(3, 5).fit(ids)
    val = np.tile(np.arange(5), 20)
    ev = model.evaluate(val, accuracy=True)
    right = [model.next_probs(val[:t]).argmax() == val[t] for t in range(1, len(val))]
    assert ev.nats < 0.2 and ev.count == 99 and ev.accuracy == pytest.approx(np.mean(right)) and ev.accuracy > 0.98
    assert math.isnan(NGramLM(3, 5).fit(ids).evaluate(ids[:100]).accuracy)


def test_sample_is_seeded_and_continues_the_prime():
    vocab = Vocab.from_text("abcd")
    model = NGramLM(3, 4).fit(vocab.encode("abcd" * 50))
    s = model.sample(vocab, "ab", 20, seed=0)
    assert s == "ab" + "cdab" * 5 and s == model.sample(vocab, "ab", 20, seed=0)


def test_unigram_by_hand_discount_and_uniform_base():
    # counts 2, 2, 1, 0 of V = 4: n1 = 1, n2 = 2, D = 1 / (1 + 2 * 2) = 0.2, three types, total 5, p_0 = 1/4
    model = NGramLM(1, 4).fit(np.array([0, 0, 1, 1, 2]))
    assert model.tables[0].discount == pytest.approx(0.2)
    p = model.next_probs(np.array([], dtype=np.int64))
    np.testing.assert_allclose(p, [(1.8 + 0.15) / 5, (1.8 + 0.15) / 5, (0.8 + 0.15) / 5, 0.15 / 5], rtol=1e-12)


def test_no_count_of_one_still_leaves_mass_for_unseen_characters():
    # counts 2, 2, 0 of V = 3: n1 = 0, so n1 / (n1 + 2 n2) would be 0 and character 2 would get probability 0;
    # D = 0.5 instead: p(2) = 0.5 * 2 types * (1/3) / 4 = 1/12, p(0) = p(1) = (1.5 + 1/3) / 4 = 11/24
    model = NGramLM(1, 3).fit(np.array([0, 0, 1, 1]))
    assert model.tables[0].discount == 0.5
    np.testing.assert_allclose(model.next_probs(np.array([0])), [11 / 24, 11 / 24, 1 / 12], rtol=1e-12)
    ev = model.evaluate(np.array([0, 2, 1]))
    assert ev.nats == pytest.approx(-(math.log(1 / 12) + math.log(11 / 24)) / 2, rel=1e-12)


@pytest.mark.parametrize("order", [1, 2, 4, 6])
def test_a_character_seen_only_in_validation_gets_a_finite_loss(order):
    V = 6  # symbol 5 never occurs in training
    train = _markov_text(3000, V - 1)
    val = np.concatenate([_markov_text(300, V - 1, seed=1), [5, 5, 0, 5]])
    model = NGramLM(order, V).fit(train)
    lp = model.log_probs(val)
    assert np.isfinite(lp).all() and np.isfinite(model.evaluate(val).nats)
    for t in (len(val) - 3, len(val) - 1):  # the unseen character, after seen and after unseen contexts
        p = model.next_probs(val[:t])
        assert (p > 0).all() and p.sum() == pytest.approx(1.0, abs=1e-12)
        assert lp[t - 1] == pytest.approx(math.log(p[5]), rel=1e-9)
    # it gets less than any seen character would in the empty context: only the uniform base gives it mass
    first = model.next_probs(np.array([], dtype=np.int64))
    assert first[5] == first.min() and first[5] < first[:5].min()


def test_refitting_forgets_the_old_counts_and_lists_are_accepted():
    a, b = _markov_text(800, 4, seed=2), _markov_text(800, 4, seed=3)
    model = NGramLM(3, 4).fit(a).fit(b)
    fresh = NGramLM(3, 4).fit(b.tolist())
    np.testing.assert_array_equal(model.log_probs(a), fresh.log_probs(a.tolist()))
    assert model.evaluate(a[:50].tolist()).nats == fresh.evaluate(a[:50]).nats


def test_the_smallest_valid_inputs_and_the_int64_key_limit():
    model = NGramLM(3, 2).fit(np.array([0, 1, 1]))  # two symbols, exactly `order` ids
    assert model.evaluate(np.array([1, 0])).count == 1  # one context and one target
    NGramLM(2, 2**31 - 1)  # 2 * log2(V) just below 62 bits: keys up to V^2 < 2^62 fit in int64
    with pytest.raises(ValueError, match="overflows"):
        NGramLM(2, 2**31)  # exactly 62 bits: refused


@pytest.mark.parametrize("order", [2, 4])
def test_next_probs_at_the_start_of_a_text_sees_no_character_before_it(order):
    ids = _markov_text(2000, 5)
    model = NGramLM(order, 5).fit(ids)
    val = _markov_text(10, 5, seed=4)
    for t in range(1, order):  # fewer than order - 1 characters of context: the rest is "no character", not id 0
        assert math.log(model.next_probs(val[:t])[val[t]]) == pytest.approx(model.log_probs(val)[t - 1], rel=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="overflows"):
        NGramLM(12, 98)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        NGramLM(2, 4).fit(np.array([0, 1, 5, 2]))
    with pytest.raises(RuntimeError, match="fit"):
        NGramLM(2, 4).log_probs(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="order"):
        NGramLM(0, 4)
    with pytest.raises(ValueError, match="vocab_size"):
        NGramLM(2, 1)
    model = NGramLM(2, 4).fit(np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"ids must be in 0\.\.3.*same Vocab"):
        model.evaluate(np.array([0, 4]))
    with pytest.raises(ValueError, match=r"0\.\.3"):
        model.log_probs(np.array([-1, 0]))
    with pytest.raises(ValueError, match="context_ids"):
        model.next_probs(np.array([7]))
    with pytest.raises(ValueError, match="integer ids"):
        model.next_probs(np.array([1.5]))
    np.testing.assert_array_equal(model.next_probs(np.array([])), model.next_probs([]))  # an empty prime is fine
    with pytest.raises(ValueError, match="integer ids"):
        model.fit(np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match="at least 2 ids"):
        model.evaluate(np.array([1]))
    with pytest.raises(ValueError, match="at least 2 ids"):
        NGramLM(2, 4).fit(np.array([1]))
