"""Checks for chapter 10's exercises (seq2seq and attention; the Transformer teaser). Each prints what is right or
what is wrong and where, and returns a bool; a template that still raises ``NotImplementedError`` gets a reminder."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rnnbook.data.translation import number_to_words
from rnnbook.exercises.common import call as _call

WORD_CASES = (0, 7, 13, 20, 21, 40, 99, 100, 101, 110, 115, 300, 999, 1000, 1001, 1010, 2019, 20020, 100000, 110011,
              999999)


def check_number_words(fn: Callable[[int], str]) -> bool:
    """Check ``fn(n) -> str`` (English words of 0 <= n < 10**6, e.g. "four thousand twenty one") on tricky numbers."""
    name = "check_number_words"
    for n in WORD_CASES:
        ok, got = _call(name, fn, n)
        if not ok:
            return False
        want = " ".join(number_to_words(n))
        if not isinstance(got, str) or " ".join(got.split()) != want:
            print(f"{name}: for {n} you wrote {got!r}, expected {want!r}.")
            return False
    print(f"{name}: correct on all {len(WORD_CASES)} test numbers.")
    return True


# --- beam search with a length penalty for the seq2seq model (chapter 10) -------------------------------------------

def _beam_reference(model, src: torch.Tensor, src_len: torch.Tensor, beam_size: int, alpha: float,
                    max_len: int) -> list[int]:
    """The exercise's beam search, for one sentence (src (1, S), src_len (1,)): keep the ``beam_size`` best
    unfinished hypotheses by total log-probability; one that writes EOS is finished and leaves the beam; stop when
    ``beam_size`` are finished or after ``max_len`` tokens (then the unfinished ones count too); return the token ids
    (EOS included when written) of the hypothesis with the best  log p / L**alpha  (L: its number of tokens)."""
    from rnnbook.data.translation import BOS, EOS

    with torch.no_grad():
        enc, h, mask = model.encode(src, src_len)
        beams = [([], 0.0, h)]  # (tokens, log p, decoder state)
        finished: list[tuple[list[int], float]] = []
        for _ in range(max_len):
            candidates = []
            for tokens, logp, state in beams:
                y = torch.tensor([tokens[-1] if tokens else BOS])
                logits, new_state, _ = model.step(y, state, enc, mask)
                lp = torch.log_softmax(logits[0], -1)
                for tok in range(lp.shape[0]):
                    candidates.append((tokens + [tok], logp + float(lp[tok]), new_state))
            candidates.sort(key=lambda c: -c[1])
            beams = []
            for tokens, logp, state in candidates:
                if tokens[-1] == EOS:
                    finished.append((tokens, logp))
                else:
                    beams.append((tokens, logp, state))
                if len(finished) >= beam_size or len(beams) == beam_size:
                    break
            if len(finished) >= beam_size or not beams:
                break
        pool = finished + [(t, lp) for t, lp, _ in beams]
    return max(pool, key=lambda c: c[1] / len(c[0]) ** alpha)[0]


def _sequence_logp(model, src: torch.Tensor, src_len: torch.Tensor, tokens: list[int]) -> float:
    """log p(tokens | src): the decoder fed the tokens one by one from BOS (``encode`` and ``step``)."""
    from rnnbook.data.translation import BOS

    with torch.no_grad():
        enc, h, mask = model.encode(src, src_len)
        total, y = 0.0, BOS
        for tok in tokens:
            logits, h, _ = model.step(torch.tensor([y]), h, enc, mask)
            total += float(torch.log_softmax(logits[0], -1)[tok])
            y = tok
    return total


class _TreeDecoder:
    """A stand-in for a trained ``Seq2Seq`` with the same ``encode`` and ``step``: its next-token logits are a fixed
    random function of the sentence and the tokens written so far (the state h holds a hash of them), peaked enough
    that greedy decoding, beam search and the length penalty disagree, with EOS more likely as the output grows."""

    def __init__(self, vocab: int, seed: int = 0):
        self.vocab, self.seed = vocab, seed

    def encode(self, src: torch.Tensor, src_len: torch.Tensor):
        key = self.seed
        for tok in src[0, : int(src_len[0])].tolist():
            key = (key * 1_000_003 + int(tok) * 7919 + 17) % (2**31)
        return torch.zeros(1, 1, 1), torch.tensor([[key, 0]]), torch.ones(1, 1, dtype=torch.bool)

    def step(self, y_prev: torch.Tensor, h: torch.Tensor, enc=None, mask=None, keys=None):
        from rnnbook.data.translation import BOS, EOS, PAD

        key, length = int(h[0, 0]), int(h[0, 1])
        key = (key * 1_000_003 + int(y_prev[0]) * 7919 + 17) % (2**31)
        logits = 2.0 * torch.randn(self.vocab, generator=torch.Generator().manual_seed(key))
        logits[EOS] += 0.8 * (length - 2)
        logits[[PAD, BOS]] = -30.0
        return logits[None], torch.tensor([[key, length + 1]]), None

    def greedy(self, src: torch.Tensor, src_len: torch.Tensor, max_len: int = 16):
        from rnnbook.data.translation import BOS, EOS

        enc, h, mask = self.encode(src, src_len)
        y, ids = BOS, []
        for _ in range(max_len):
            logits, h, _ = self.step(torch.tensor([y]), h, enc, mask)
            y = int(logits[0].argmax())
            ids.append(y)
            if y == EOS:
                break
        return torch.tensor([ids]), None


def _beam_cases():
    """The stand-in decoder and twelve sentences (the number words of 1- to 4-digit numbers)."""
    from rnnbook.data.translation import TGT_CHARS, number_pairs

    model = _TreeDecoder(len(TGT_CHARS))
    pairs = number_pairs(np.random.default_rng(5), 12, (1, 4))
    src, src_len = torch.as_tensor(pairs.src), torch.as_tensor(pairs.src_len)
    return model, [(src[i:i + 1], src_len[i:i + 1]) for i in range(len(src))]


BEAM_SETTINGS = ((3, 0.7, 8), (4, 1.0, 8), (2, 0.0, 8))


def check_beam_search(fn: Callable) -> bool:
    """Check ``fn(model, src (1, S), src_len (1,), beam_size, alpha, max_len) -> list of token ids`` (without BOS,
    with EOS when the hypothesis ends) against the beam search the exercise describes, on sentences where greedy
    decoding, beam search without a penalty and beam search with it give different answers."""
    name = "check_beam_search"
    model, cases = _beam_cases()
    for beam_size, alpha, max_len in BEAM_SETTINGS:
        for src, src_len in cases:
            ok, got = _call(name, fn, model, src, src_len, beam_size, alpha, max_len)
            if not ok:
                return False
            try:
                got = [int(t) for t in (got.flatten().tolist() if hasattr(got, "flatten") else got)]
            except (TypeError, ValueError):
                print(f"{name}: return the token ids as a list of ints, got {type(got).__name__}.")
                return False
            want = _beam_reference(model, src, src_len, beam_size, alpha, max_len)
            if got == want:
                continue
            where = f"(beam_size={beam_size}, alpha={alpha}, sentence of {int(src_len)} tokens)"
            if got and got[0] == 1:
                print(f"{name}: drop the BOS from the returned ids {where}: they start with the first written token.")
                return False
            if not got or len(got) > max_len:
                print(f"{name}: you returned {len(got)} tokens {where}; a hypothesis has 1 to max_len={max_len}.")
                return False
            score = lambda t: _sequence_logp(model, src, src_len, t) / len(t) ** alpha
            if abs(score(got) - score(want)) < 1e-5:
                continue  # a tie: an equally good hypothesis
            greedy = model.greedy(src, src_len, max_len=max_len)[0][0].tolist()
            greedy = greedy[: greedy.index(2) + 1] if 2 in greedy else greedy
            hints = [("greedy decoding: did you keep only the single best hypothesis at each step?", greedy)]
            if alpha != 0:
                hints.append(("beam search without the length penalty (alpha = 0): divide the final scores by "
                              "L**alpha", _beam_reference(model, src, src_len, beam_size, 0.0, max_len)))
            if alpha != 1:
                hints.append(("the scores divided by L rather than L**alpha",
                              _beam_reference(model, src, src_len, beam_size, 1.0, max_len)))
            print(f"{name}: {where} you returned {got} (log p / L^alpha = {score(got):.4f}), expected {want} "
                  f"({score(want):.4f}).")
            for hint, ids in hints:
                if got == ids:
                    print(f"  hint: your answer equals {hint}")
                    break
            return False
    print(f"{name}: correct on {len(cases) * len(BEAM_SETTINGS)} sentences and settings.")
    return True
