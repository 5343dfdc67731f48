"""Tests of ``rnnbook.exercises.beyond``: checks for chapter 10's exercises (seq2seq and attention; the Transformer
teaser). Each prints what is right or what is wrong and where, and returns a bool; a template that still raises
``NotImplementedError`` gets a reminder."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from rnnbook.data.translation import number_to_words  # noqa: E402
from rnnbook.exercises.beyond import (  # noqa: E402
    _beam_cases,
    _beam_reference,
    check_beam_search,
    check_number_words,
)


def _student_beam(model, src, src_len, beam_size, alpha, max_len):
    """Written apart from the reference, from the exercise's words only."""
    enc, h, mask = model.encode(src, src_len)
    alive, done = [(0.0, [], h)], []
    for _ in range(max_len):
        cand = []
        for lp, toks, state in alive:
            logits, new, _ = model.step(torch.tensor([toks[-1] if toks else 1]), state, enc, mask)
            logp = torch.log_softmax(logits[0], -1)
            cand += [(lp + float(logp[t]), toks + [t], new) for t in range(len(logp))]
        alive = []
        for c in sorted(cand, key=lambda c: c[0], reverse=True):
            (done if c[1][-1] == 2 else alive).append(c)
            if len(done) >= beam_size or len(alive) == beam_size:
                break
        if len(done) >= beam_size or not alive:
            break
    best = max(done + alive, key=lambda c: c[0] / len(c[1]) ** alpha)
    return best[1]


def test_check_beam_search(capsys):
    assert check_beam_search(_student_beam)
    model, cases = _beam_cases()
    no_penalty = lambda m, s, sl, b, a, L: _beam_reference(m, s, sl, b, 0.0, L)
    assert not check_beam_search(no_penalty)
    assert "without the length penalty" in capsys.readouterr().out
    greedy = lambda m, s, sl, b, a, L: _beam_reference(m, s, sl, 1, a, L)
    assert not check_beam_search(greedy)
    assert "greedy" in capsys.readouterr().out
    per_length = lambda m, s, sl, b, a, L: _beam_reference(m, s, sl, b, 1.0, L)
    assert not check_beam_search(per_length)
    assert "divided by L rather than" in capsys.readouterr().out
    with_bos = lambda m, s, sl, b, a, L: [1] + _beam_reference(m, s, sl, b, a, L)
    assert not check_beam_search(with_bos)
    assert "drop the BOS" in capsys.readouterr().out


def test_check_number_words():
    assert check_number_words(lambda n: " ".join(number_to_words(n)))
    assert not check_number_words(lambda n: " ".join(number_to_words(n)).replace("twenty", "twenty and"))

    def todo(n):
        raise NotImplementedError

    assert not check_number_words(todo)
