"""The checks of chapters 1-5's exercises: each passes a right answer and names the mistake of a wrong one."""

import re

import numpy as np
import pytest
import torch

from rnnbook.exercises.charlm import check_bigram_perplexity, check_nucleus_probs
from rnnbook.exercises.interpret import check_in_indent
from rnnbook.exercises.minchar import check_word_probability
from rnnbook.exercises.recurrence import check_param_count
from rnnbook.minchar import forward


def _count(V, C, H, biases=2, head_bias=True):
    return V * H + 2 * H * H + biases * H + C * H + (C if head_bias else 0)


@pytest.mark.parametrize("answer, hint", [
    (lambda V, C, H: _count(V, C, H, biases=1), "two bias vectors"),
    (lambda V, C, H: _count(V, C, H, head_bias=False), "read-out's bias"),
    (lambda V, C, H: 12 * _count(V, C, H), "does not depend on the sequence length"),
    (lambda V, C, H: float(_count(V, C, H)), "return an int"),
])
def test_param_count_names_the_mistake(answer, hint, capsys):
    assert not check_param_count(answer)
    assert hint in capsys.readouterr().out


def test_param_count_accepts_the_count():
    assert check_param_count(lambda V, C, H: _count(V, C, H))


def _word_p(params, ids, T, scale=1.0):
    ys = forward(ids[:-1], np.zeros((params.Whh.shape[0], 1)), params)[1]
    p = 1.0
    for y, j in zip(ys, ids[1:]):
        z = y / T * scale
        z = z - z.max()
        p *= np.exp(z[j]) / np.exp(z).sum()
    return p


def test_word_probability():
    assert check_word_probability(_word_p)


@pytest.mark.parametrize("answer, hint", [
    (lambda p, i, T: _word_p(p, i, 1.0), "temperature was ignored"),
    (lambda p, i, T: np.log(_word_p(p, i, T)), "log-probability"),
])
def test_word_probability_names_the_mistake(answer, hint, capsys):
    assert not check_word_probability(answer)
    assert hint in capsys.readouterr().out


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


def _indent(text):
    out = np.zeros(len(text), dtype=bool)
    for m in re.finditer(r"^[ \t]+", text, flags=re.M):
        out[m.start():m.end()] = True
    return out


def test_in_indent():
    assert check_in_indent(_indent)


@pytest.mark.parametrize("answer, hint", [
    (lambda t: np.array([c in " \t" for c in t]), "every space and tab"),
    (lambda t: _indent(t) | np.array([c == "\n" for c in t]), "newline ends its line"),
    (lambda t: _indent(t) & np.array([c == " " for c in t]), "a tab indents too"),
])
def test_in_indent_names_the_mistake(answer, hint, capsys):
    assert not check_in_indent(answer)
    assert hint in capsys.readouterr().out


def _m2o(x, h0, Wx, Wh, b, dh_last, where="last"):
    from rnnbook.numpy_nn import rnn_backward, rnn_forward

    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = np.zeros_like(h)
    if where == "every":
        dh[:] = dh_last[:, None]
    else:
        dh[:, -1] = dh_last
    norms = np.linalg.norm(rnn_backward(dh, cache)[0], axis=(0, 2))
    return norms[::-1] if where == "reversed" else norms


def test_many_to_one_grad():
    from rnnbook.exercises.recurrence import check_many_to_one_grad

    assert check_many_to_one_grad(_m2o)


@pytest.mark.parametrize("where, hint", [("every", "many-to-many"), ("reversed", "reverse order")])
def test_many_to_one_grad_names_the_mistake(where, hint, capsys):
    from rnnbook.exercises.recurrence import check_many_to_one_grad

    assert not check_many_to_one_grad(lambda *a: _m2o(*a, where=where))
    assert hint in capsys.readouterr().out
