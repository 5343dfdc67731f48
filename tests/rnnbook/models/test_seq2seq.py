"""Tests of ``rnnbook.models.seq2seq``: sequence to sequence (Sutskever et al.): a many-to-one encoder and a one-to-many
decoder, with or without attention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.data.translation import (
    BOS,
    EOS,
    PAD,
    SRC_WORDS,
    TGT_CHARS,
    encode_pairs,
    number_pairs,
)
from rnnbook.metrics import accuracy_by_length, exact_match
from rnnbook.models.seq2seq import Seq2Seq, attend, seq2seq_loss
from rnnbook.train.tasks import train_seq2seq


def _model(attention, seed=0):
    torch.manual_seed(seed)
    return Seq2Seq(len(SRC_WORDS), len(TGT_CHARS), hidden=16, embed=8, attention=attention)


@pytest.mark.parametrize("attention", [None, "dot", "additive"])
def test_shapes_and_attention_sums_to_one(attention):
    p = number_pairs(np.random.default_rng(1), 7, (1, 6))
    m = _model(attention)
    logits, w = m(torch.as_tensor(p.src), torch.as_tensor(p.src_len), torch.as_tensor(p.tgt[:, :-1]))
    assert logits.shape == (7, p.tgt.shape[1] - 1, len(TGT_CHARS))
    if attention is None:
        assert w is None
    else:
        assert w.shape == (7, p.tgt.shape[1] - 1, p.src.shape[1])
        torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:2]))
        pad = torch.as_tensor(p.src == PAD)[:, None, :].expand_as(w)
        assert torch.all(w[pad] == 0)  # no weight on padding


@pytest.mark.parametrize("attention", [None, "additive"])
def test_padding_does_not_change_the_translation(attention):
    """A sentence alone and the same sentence padded inside a batch with a longer one give the same logits."""
    m = _model(attention).eval()
    alone, batch = encode_pairs([42]), encode_pairs([42, 123456789])
    la, _ = m(torch.as_tensor(alone.src), torch.as_tensor(alone.src_len), torch.as_tensor(alone.tgt[:, :-1]))
    lb, _ = m(torch.as_tensor(batch.src), torch.as_tensor(batch.src_len), torch.as_tensor(batch.tgt[:, :-1]))
    torch.testing.assert_close(la[0], lb[0, : la.shape[1]], rtol=1e-5, atol=1e-6)


def test_attend_matches_a_loop():
    gen = torch.Generator().manual_seed(0)
    scores, values = torch.randn(2, 4, generator=gen), torch.randn(2, 4, 3, generator=gen)
    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    context, w = attend(scores, values, mask)
    for n in range(2):
        keep = mask[n]
        e = torch.exp(scores[n][keep])
        want_w = e / e.sum()
        torch.testing.assert_close(w[n][keep], want_w)
        torch.testing.assert_close(context[n], (want_w[:, None] * values[n][keep]).sum(0))


def test_greedy_agrees_with_teacher_forcing_on_its_own_output():
    p = number_pairs(np.random.default_rng(2), 5, (2, 5))
    m = _model("additive").eval()
    src, src_len = torch.as_tensor(p.src), torch.as_tensor(p.src_len)
    ids, _ = m.greedy(src, src_len, max_len=6)
    tgt_in = torch.cat([torch.full((5, 1), BOS), ids[:, :-1].clamp(min=0)], 1)
    logits, _ = m(src, src_len, tgt_in)
    first_eos = [(row == EOS).nonzero()[0, 0].item() if (row == EOS).any() else ids.shape[1] for row in ids]
    for n, stop in enumerate(first_eos):
        np.testing.assert_array_equal(logits[n, : stop + 1].argmax(-1)[: ids.shape[1]], ids[n, : stop + 1])


def test_training_learns_short_numbers():
    rng = np.random.default_rng(0)
    m = _model("additive")
    train_seq2seq(m, lambda s: number_pairs(rng, 32, (1, 2)), 150, lr=1e-2, progress=False)
    test = number_pairs(np.random.default_rng(9), 100, (1, 2))
    assert exact_match(m, test).mean() > 0.9
    acc = accuracy_by_length(m, test)
    assert set(acc) == {1, 2}
    with torch.no_grad():
        assert float(seq2seq_loss(m, test)) < 0.3


def test_bad_arguments():
    with pytest.raises(ValueError):
        Seq2Seq(10, 10, attention="cosine")
    with pytest.raises(ValueError):
        number_pairs(np.random.default_rng(0), 5, 13)
