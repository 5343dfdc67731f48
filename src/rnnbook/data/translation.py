"""A synthetic translation task: English number words -> digits ("four thousand twenty one" -> "4021").

A small language pair with the features that make translation a sequence-to-sequence problem: the two sides have
different lengths, different vocabularies, and a non-trivial alignment (the zeros of "4021" are never said; the
"thousand" says where the digits go). The input length is controlled by the number of digits. Deterministic by
seed: ``number_pairs(np.random.default_rng(0), ...)`` gives the same pairs every time.

Source tokens are words (``SRC_WORDS``), target tokens are characters (``TGT_CHARS``); both vocabularies reserve
0 = <pad>, 1 = <bos> (start of the output), 2 = <eos> (end of a sequence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")
ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SCALE_WORDS = ("", "thousand", "million", "billion")
SRC_WORDS: tuple[str, ...] = SPECIALS + ONES + TENS[2:] + ("hundred",) + SCALE_WORDS[1:]
TGT_CHARS: tuple[str, ...] = SPECIALS + tuple("0123456789")
MAX_DIGITS = 3 * len(SCALE_WORDS)
_SRC_INDEX = {w: i for i, w in enumerate(SRC_WORDS)}
_TGT_INDEX = {c: i for i, c in enumerate(TGT_CHARS)}


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
    if n or not words:
        words.append(ONES[n])
    return words


def number_to_words(n: int) -> list[str]:
    """English words of 0 <= n < 10**12 (short scale, no "and", no hyphens): 4021 -> four thousand twenty one."""
    if not isinstance(n, (int, np.integer)) or not 0 <= n < 10**MAX_DIGITS:
        raise ValueError(f"number_to_words: expected an int in [0, 10**{MAX_DIGITS}), got {n!r}")
    n = int(n)
    if n == 0:
        return ["zero"]
    words: list[str] = []
    for power in range(len(SCALE_WORDS) - 1, -1, -1):
        group = (n // 1000**power) % 1000
        if group:
            words += _below_thousand(group) + ([SCALE_WORDS[power]] if power else [])
    return words


def words_to_number(words: list[str]) -> int:
    """The inverse of ``number_to_words`` (used by the tests to check the round trip)."""
    total, group = 0, 0
    for w in words:
        if w in ONES:
            group += ONES.index(w)
        elif w in TENS:
            group += 10 * TENS.index(w)
        elif w == "hundred":
            group *= 100
        elif w in SCALE_WORDS:
            total += group * 1000 ** SCALE_WORDS.index(w)
            group = 0
        else:
            raise ValueError(f"words_to_number: unknown word {w!r}; expected one of {SRC_WORDS[3:]}")
    return total + group


@dataclass(frozen=True)
class Pairs:
    """A batch of translation pairs, padded with ``PAD``.

    src (N, S) int: word ids followed by ``EOS``; src_len (N,) int: the number of real tokens (with the EOS);
    tgt (N, T) int: ``BOS``, the digits, ``EOS``: the decoder reads tgt[:, :-1] and predicts tgt[:, 1:];
    digits (N,) int: how many digits each number has (the knob that controls the length).
    """

    src: np.ndarray
    src_len: np.ndarray
    tgt: np.ndarray
    digits: np.ndarray
    numbers: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.numbers)


def random_numbers(rng: np.random.Generator, n: int, digits: int | tuple[int, int]) -> list[int]:
    """``n`` numbers with exactly ``digits`` digits, or with a digit count uniform in [lo, hi] for a pair."""
    lo, hi = (digits, digits) if isinstance(digits, (int, np.integer)) else digits
    if n < 1 or not 1 <= lo <= hi <= MAX_DIGITS:
        raise ValueError(f"random_numbers: need n >= 1 and 1 <= digits <= {MAX_DIGITS}, got n={n}, digits={digits}")
    counts = rng.integers(lo, hi + 1, size=n)
    # first digit 1-9 (no leading zero), then each digit 0-9 with probability 1/2 of being 0: zeros are what
    # makes the task a translation (they are never said) rather than a word-by-word lookup
    out = []
    for d in counts:
        first = int(rng.integers(1, 10))
        rest = np.where(rng.random(d - 1) < 0.5, 0, rng.integers(1, 10, size=d - 1))
        out.append(int("".join(map(str, [first, *rest.tolist()]))))
    return out


def encode_pairs(numbers: list[int]) -> Pairs:
    """Token ids of the pairs (words -> digits) for the given numbers."""
    if not numbers:
        raise ValueError("encode_pairs: need at least one number")
    src = [[_SRC_INDEX[w] for w in number_to_words(n)] + [EOS] for n in numbers]
    tgt = [[BOS] + [_TGT_INDEX[c] for c in str(n)] + [EOS] for n in numbers]
    S, T = max(map(len, src)), max(map(len, tgt))
    src_a = np.full((len(numbers), S), PAD, dtype=np.int64)
    tgt_a = np.full((len(numbers), T), PAD, dtype=np.int64)
    for i, (s, t) in enumerate(zip(src, tgt)):
        src_a[i, : len(s)] = s
        tgt_a[i, : len(t)] = t
    return Pairs(src_a, np.array([len(s) for s in src]), tgt_a, np.array([len(str(n)) for n in numbers]),
                 tuple(int(n) for n in numbers))


def number_pairs(rng: np.random.Generator, n: int, digits: int | tuple[int, int] = (1, 9)) -> Pairs:
    """``n`` random pairs whose numbers have ``digits`` digits (an int, or an inclusive range (lo, hi))."""
    return encode_pairs(random_numbers(rng, n, digits))


def decode_src(ids) -> str:
    """Word ids -> the sentence (stops at EOS, skips PAD)."""
    words = []
    for i in np.asarray(ids).tolist():
        if i == EOS:
            break
        if i != PAD:
            words.append(SRC_WORDS[i])
    return " ".join(words)


def decode_tgt(ids) -> str:
    """Character ids -> the digit string (skips BOS and PAD, stops at EOS)."""
    chars = []
    for i in np.asarray(ids).tolist():
        if i == EOS:
            break
        if i not in (PAD, BOS):
            chars.append(TGT_CHARS[i])
    return "".join(chars)
