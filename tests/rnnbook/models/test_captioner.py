"""Tests of ``rnnbook.models.captioner``: the lecture's image captioner in PyTorch: a CNN that sees, an RNN that speaks.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from rnnbook.models.captioner import (
    Captioner,
    ConvEncoder,
    PrecomputedFeatures,
    ResNetEncoder,
)
from rnnbook.train.tasks import train_captioner


def tiny_captioner(condition="both", cell="lstm", V=5, D=3, seed=0):
    torch.manual_seed(seed)
    return Captioner(V, PrecomputedFeatures(D), wordvec_dim=4, hidden_dim=8, cell=cell, condition=condition).eval()


@pytest.mark.parametrize("condition", ["inject", "init", "both"])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_conditioning_uses_the_image(condition, cell):
    m = tiny_captioner(condition, cell)
    v = torch.randn(2, 3)
    words = torch.tensor([[1, 3, 4], [1, 3, 4]])
    s1, s2 = m(v, words), m(torch.randn(2, 3), words)
    assert s1.shape == (2, 3, 5) and not torch.allclose(s1, s2)
    assert (m.proj is not None) == (condition in {"init", "both"})
    assert m.rnn.input_size == 4 + (3 if condition in {"inject", "both"} else 0)


def test_inject_is_the_lecture_equation():
    """h_t = tanh(Wxh x_t + Whh h_{t-1} + Wih v) with h_0 = 0: recompute the plain RNN by hand."""
    m = tiny_captioner("inject", "rnn")
    v = torch.randn(2, 3)
    words = torch.tensor([[1, 3, 4, 2]])
    words = words.expand(2, -1)
    W_ih = m.rnn.weight_ih_l0  # (H, W + D) = [Wxh | Wih]
    Wxh, Wih = W_ih[:, :4], W_ih[:, 4:]
    h = torch.zeros(2, 8)
    for t in range(4):
        x = m.embed(words[:, t])
        h = torch.tanh(x @ Wxh.T + h @ m.rnn.weight_hh_l0.T + v @ Wih.T + m.rnn.bias_ih_l0 + m.rnn.bias_hh_l0)
        torch.testing.assert_close(m(v, words)[:, t], m.out(h))


def test_greedy_and_step_decoding_agree_with_teacher_forcing():
    m = tiny_captioner()
    v = torch.randn(4, 3)
    out = m.greedy(v, max_length=6)
    # feeding the greedy words back with teacher forcing gives the same argmax at every step up to <END>
    full = torch.cat([torch.ones(4, 1, dtype=torch.long), out], dim=1)
    scores = m(v, full[:, :-1])
    for n in range(4):
        for t in range(6):
            assert scores[n, t].argmax() == out[n, t]
            if out[n, t] == 2:
                assert (out[n, t + 1:] == 0).all()
                break


def test_beam_search_finds_the_exact_best_caption():
    """With a beam as wide as every prefix, beam search equals exhaustive search over all captions of length <= L."""
    L, V = 3, 5
    for seed in range(3):
        m = tiny_captioner(seed=seed)
        with torch.no_grad():
            m.out.bias[2] -= 1.0  # make <END> less likely so that longer captions compete
        v = torch.randn(2, 3)
        beam = m.beam_search(v, beam_size=V ** L, max_length=L)
        one = m.beam_search(v, beam_size=1, max_length=L)
        torch.testing.assert_close(one, m.greedy(v, max_length=L))
        for n in range(2):
            best, best_lp = None, -np.inf
            words = [w for w in range(V) if w not in (0, 1)]  # never <NULL> or <START> inside a caption
            for k in range(1, L + 1):
                for seq in itertools.product(words, repeat=k):
                    if (2 in seq[:-1]) or (k < L and seq[-1] != 2):
                        continue  # <END> only last; shorter than L must end with <END>
                    cap = torch.tensor([[1, *seq] + [0] * (L - k)])
                    lp = float(m.sequence_logprob(v[n:n + 1], cap))
                    if lp > best_lp:
                        best, best_lp = list(seq) + [0] * (L - k), lp
            assert beam[n].tolist() == best


def test_conv_encoder_and_training_overfit():
    from rnnbook.data import scenes as sc

    s = sc.make_scenes(8, seed=0, size=32)
    w2i, i2w = sc.scene_vocab()
    caps, idx = sc.caption_pairs(s, w2i)
    enc = ConvEncoder(image_size=32, feature_dim=32, channels=(8, 16), grid=3)
    assert enc(torch.from_numpy(s.images)).shape == (8, 32)
    with pytest.raises(ValueError, match="images must be"):
        enc(torch.zeros(1, 3, 16, 16))
    torch.manual_seed(0)
    m = Captioner(len(w2i), enc, wordvec_dim=16, hidden_dim=64)
    keep = np.array([np.flatnonzero(idx == i)[0] for i in range(8)])  # one caption per image
    hist = train_captioner(m, torch.from_numpy(s.images), torch.from_numpy(caps[keep]), torch.arange(8), steps=150,
                           batch_size=8, lr=1e-2, progress=False)
    assert hist.loss[0] > 2.0 and hist.final < 0.1
    out = sc.decode_captions(m.greedy(torch.from_numpy(s.images), 20).numpy(), i2w)
    assert sum(o == s.captions[i][0] for i, o in enumerate(out)) >= 7


def test_resnet_encoder_random_weights_offline():
    enc = ResNetEncoder(feature_dim=16, pretrained=False).eval()
    assert enc(torch.rand(2, 3, 64, 64)).shape == (2, 16)
    assert not any(p.requires_grad for p in enc.trunk.parameters())
