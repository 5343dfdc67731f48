"""Tests of ``rnnbook.data.translation``: a synthetic translation task: English number words -> digits ("four thousand
twenty one" -> "4021")."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.data.translation import (
    BOS,
    EOS,
    PAD,
    decode_src,
    decode_tgt,
    number_pairs,
    number_to_words,
    words_to_number,
)


@pytest.mark.parametrize("n", [0, 5, 12, 19, 20, 45, 100, 101, 999, 1000, 1001, 10000, 1000000, 1002003,
                               987654321012, 10**12 - 1])
def test_words_round_trip(n):
    assert words_to_number(number_to_words(n)) == n


def test_words_known_values():  # independent of the code under test: written out by hand
    assert " ".join(number_to_words(4021)) == "four thousand twenty one"
    assert " ".join(number_to_words(700015)) == "seven hundred thousand fifteen"
    assert " ".join(number_to_words(3000000)) == "three million"


def test_words_reject_out_of_range():
    with pytest.raises(ValueError):
        number_to_words(-1)
    with pytest.raises(ValueError):
        number_to_words(10**12)


def test_pairs_are_deterministic_and_decode_back():
    a = number_pairs(np.random.default_rng(3), 50, (1, 9))
    b = number_pairs(np.random.default_rng(3), 50, (1, 9))
    np.testing.assert_array_equal(a.src, b.src)
    np.testing.assert_array_equal(a.tgt, b.tgt)
    for i, n in enumerate(a.numbers):
        assert words_to_number(decode_src(a.src[i]).split()) == n
        assert decode_tgt(a.tgt[i]) == str(n)
        assert a.tgt[i, 0] == BOS and a.src[i, a.src_len[i] - 1] == EOS
        assert np.all(a.src[i, a.src_len[i]:] == PAD)
        assert a.digits[i] == len(str(n))


@pytest.mark.parametrize("digits", [1, 4, 9, 12])
def test_lengths_are_controlled(digits):
    p = number_pairs(np.random.default_rng(0), 40, digits)
    assert set(p.digits.tolist()) == {digits}
    assert p.tgt.shape[1] == digits + 2
    assert all(10 ** (digits - 1) <= n < 10**digits for n in p.numbers)
