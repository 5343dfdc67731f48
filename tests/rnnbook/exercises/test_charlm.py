"""Tests of ``rnnbook.exercises.charlm``: checks for the character-language-model chapter's exercises. Each prints what
is wrong, and returns a bool."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.exercises.charlm import (
    check_bigram_perplexity,
    check_evaluate,
    check_next_char_probs,
    check_nucleus_probs,
)
from rnnbook.models.charlm import next_char_probs
from rnnbook.tbptt import evaluate, evaluate_text

# --- the chapter's exercise checks -------------------------------------------------------------------------------

def test_check_next_char_probs(capsys):
    assert check_next_char_probs(next_char_probs)

    def power(logits, T, k):  # p^(1/T), renormalised, is the same distribution: a right answer
        p = torch.softmax(logits, -1) ** (1 / T)
        if k:
            p[p < torch.topk(p, k).values[-1]] = 0
        return p / p.sum()
    assert check_next_char_probs(power)
    assert not check_next_char_probs(lambda l, T, k: torch.softmax(l * T, -1))
    assert "divide by the temperature" in capsys.readouterr().out

    def unnormalised(l, T, k):
        p = torch.softmax(l / T, -1)
        if k:
            p[p < torch.topk(p, k).values[-1]] = 0
        return p
    assert not check_next_char_probs(unnormalised)
    assert "renormalising" in capsys.readouterr().out


def test_check_evaluate(capsys):
    assert check_evaluate(lambda m, ids, b, k: evaluate_text(m, ids, b, k).nats)
    from rnnbook.data.streams import tbptt_batches
    assert not check_evaluate(lambda m, ids, b, k: evaluate(m, tbptt_batches(ids, b, k), carry_state=False).nats)
    assert "reset" in capsys.readouterr().out
    assert not check_evaluate(lambda m, ids, b, k: evaluate_text(m, ids, b, k).bits)
    assert "bits" in capsys.readouterr().out


def _nucleus(logits, T, top_p, strict=False):
    p = torch.softmax(logits / T, -1)
    sp, order = torch.sort(p, descending=True)
    keep = torch.cumsum(sp, 0) <= top_p if strict else (torch.cumsum(sp, 0) - sp) < top_p
    out = torch.zeros_like(p)
    out[order[keep]] = sp[keep]
    return out / out.sum()


def test_nucleus():
    assert check_nucleus_probs(_nucleus)


@pytest.mark.parametrize("answer, hint", [
    (lambda lg, T, p: _nucleus(lg, T, p, strict=True), "keep the character that crosses"),
    (lambda lg, T, p: _nucleus(lg, 1.0, p), "divide the logits by the temperature"),
    (lambda lg, T, p: torch.softmax(lg / T, -1), "nothing removed"),
])
def test_nucleus_names_the_mistake(answer, hint, capsys):
    assert not check_nucleus_probs(answer)
    assert hint in capsys.readouterr().out


def _bigram(train, val, V, alpha, denominator="bigrams", unit="ppl"):
    c = np.zeros((V, V))
    np.add.at(c, (train[:-1], train[1:]), 1)
    rows = c.sum(1, keepdims=True) if denominator == "bigrams" else np.bincount(train, minlength=V)[:, None]
    nats = -np.log(((c + alpha) / (rows + alpha * V))[val[:-1], val[1:]]).mean()
    return {"ppl": np.exp(nats), "nats": nats, "bits": nats / np.log(2)}[unit]


def test_bigram_perplexity():
    assert check_bigram_perplexity(_bigram)


@pytest.mark.parametrize("answer, hint", [
    (lambda *a: _bigram(*a, unit="nats"), "e to that power"),
    (lambda *a: _bigram(*a, unit="bits"), "2 to that power"),
    (lambda *a: _bigram(*a, denominator="unigram"), "bigrams that start with h"),
    (lambda t, v, V, a: _bigram(t, v, V, 0.0), "only the alpha of the smoothing"),
])
def test_bigram_perplexity_names_the_mistake(answer, hint, capsys):
    with np.errstate(all="ignore"):
        assert not check_bigram_perplexity(answer)
    assert hint in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


def test_check_evaluate_computes_its_expectation_before_the_answer_runs(capsys):
    from rnnbook.exercises import charlm as charlm_ex
    from rnnbook.tbptt import evaluate_text

    def train_then_evaluate(model, ids, batch_size, seq_len):
        with torch.no_grad():
            model.head.bias.add_(5.0 * torch.arange(5.0))  # changes the model it was handed
        return evaluate_text(model, ids, batch_size, seq_len).nats

    assert not charlm_ex.check_evaluate(train_then_evaluate)
