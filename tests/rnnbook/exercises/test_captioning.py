"""Tests of ``rnnbook.exercises.captioning``: checks for the captioning chapter's exercises. Each prints what is right
or what is wrong and where, and returns a bool."""

from __future__ import annotations

import numpy as np

from rnnbook.exercises import captioning


def test_exercise_checks(capsys):
    from rnnbook.exercises.captioning import (
        check_temporal_softmax_loss,
        check_word_embedding_backward,
    )

    def good_emb(dout, x, V):
        dW = np.zeros((V, dout.shape[2]))
        np.add.at(dW, x, dout)
        return dW

    def naive_emb(dout, x, V):
        dW = np.zeros((V, dout.shape[2]))
        dW[x] += dout
        return dW

    def todo(*_):
        raise NotImplementedError("your code here")

    assert check_word_embedding_backward(good_emb)
    assert not check_word_embedding_backward(naive_emb)
    assert "np.add.at" in capsys.readouterr().out
    assert not check_word_embedding_backward(todo)
    assert "not implemented" in capsys.readouterr().out

    def good_loss(x, y, mask):
        N, T, V = x.shape
        p = np.exp(x - x.max(2, keepdims=True))
        p /= p.sum(2, keepdims=True)
        nll = -np.log(np.take_along_axis(p, y[..., None], 2)[..., 0])
        dx = p.copy()
        np.put_along_axis(dx, y[..., None], np.take_along_axis(dx, y[..., None], 2) - 1, 2)
        return float((nll * mask).sum() / N), dx * mask[..., None] / N

    def mean_loss(x, y, mask):
        loss, dx = good_loss(x, y, mask)
        return loss * x.shape[0] / mask.sum(), dx

    assert check_temporal_softmax_loss(good_loss)
    assert not check_temporal_softmax_loss(mean_loss)
    assert "divides the sum by N" in capsys.readouterr().out
    assert not check_temporal_softmax_loss(todo)


# --- bad input ------------------------------------------------------------------------------------------------


# ---- numbers are real numbers, masks are boolean -----------------------------------------------------------------

def test_8_a_loss_returned_as_a_string_is_rejected(capsys):
    from rnnbook.numpy_nn.captioning import temporal_softmax_loss as ref

    def as_text(x, y, mask):
        loss, dx = ref(x, y, mask)
        return str(loss), dx

    assert not captioning.check_temporal_softmax_loss(as_text)
    assert "the loss as one number" in capsys.readouterr().out
