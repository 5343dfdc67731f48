"""Tests of ``rnnbook.models.attention``: show, Attend and Tell (Xu et al. 2015): an LSTM decoder that looks at a
different place for every word."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnnbook.exercises.attention import (  # noqa: E402
    reference_doubly_stochastic,
    reference_soft_attention,
)
from rnnbook.models.attention import (
    GridEncoder,
    ShowAttendTell,
    SoftAttention,
    coordinate_channels,
    doubly_stochastic_penalty,  # noqa: E402
)

V, NULL, START, END = 12, 0, 1, 2


def small_model(context="attention", seed=0):
    torch.manual_seed(seed)
    return ShowAttendTell(V, NULL, START, END, wordvec_dim=8, hidden_dim=16, attn_dim=8,
                          encoder=GridEncoder((4, 8, 8)), context=context)


def test_encoder_keeps_the_grid_and_coordinates():
    enc = GridEncoder((4, 8, 8))
    a = enc(torch.rand(2, 3, 64, 64))
    assert a.shape == (2, 64, 10) and enc.out_dim == 10
    xy = coordinate_channels(8, 8, a)
    # location i = row * 8 + col carries (x, y) = (col, row) mapped to [-1, 1]
    np.testing.assert_allclose(a[0, :, -2].detach().numpy(), xy[0].flatten().numpy())
    np.testing.assert_allclose(a[0, 9, -2:].detach().numpy(), [-1 + 2 / 7, -1 + 2 / 7], rtol=1e-6)
    with pytest.raises(ValueError):
        enc(torch.rand(2, 3, 60, 60))
    with pytest.raises(ValueError):
        enc(torch.rand(2, 64, 64))


def test_soft_attention_matches_a_loop():
    torch.manual_seed(1)
    att = SoftAttention(5, 4, 3)
    a, h = torch.randn(2, 6, 5), torch.randn(2, 4)
    z, alpha = att(att.project(a), h, a)
    for n in range(2):
        e = torch.stack([att.w.weight[0] @ torch.relu(att.W_a.weight @ a[n, i] + att.W_h.weight @ h[n] + att.W_h.bias)
                         for i in range(6)])
        want = torch.softmax(e, 0)
        torch.testing.assert_close(alpha[n], want)
        torch.testing.assert_close(z[n], sum(want[i] * a[n, i] for i in range(6)))
    assert torch.allclose(alpha.sum(1), torch.ones(2))


def test_tanh_attention_matches_the_numpy_reference():
    torch.manual_seed(2)
    att = SoftAttention(5, 4, 3, act="tanh")
    a, h = torch.randn(2, 6, 5, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    att = att.double()
    with torch.no_grad():
        z, alpha = att(att.project(a), h, a)
    W = [p.detach().numpy() for p in (att.W_a.weight.T, att.W_h.weight.T, att.W_h.bias, att.w.weight[0])]
    z_ref, alpha_ref = reference_soft_attention(a.numpy(), h.numpy(), *W)
    np.testing.assert_allclose(alpha.numpy(), alpha_ref, rtol=1e-10)
    np.testing.assert_allclose(z.numpy(), z_ref, rtol=1e-10)
    with pytest.raises(ValueError):
        SoftAttention(5, 4, 3, act="sigmoid")


def test_doubly_stochastic_penalty():
    alphas = torch.softmax(torch.randn(3, 5, 7), dim=2)
    loop = np.mean([sum((1 - sum(float(alphas[n, t, i]) for t in range(5))) ** 2 for i in range(7)) for n in range(3)])
    assert np.isclose(float(doubly_stochastic_penalty(alphas)), loop, rtol=1e-5)
    assert np.isclose(reference_doubly_stochastic(alphas.numpy()), loop, rtol=1e-5)
    mask = torch.tensor([[1, 1, 1, 0, 0]] * 3)
    assert np.isclose(float(doubly_stochastic_penalty(alphas, mask)), float(doubly_stochastic_penalty(alphas[:, :3])))
    # T = L with each location read once: the penalty is zero
    assert float(doubly_stochastic_penalty(torch.eye(4)[None])) == 0.0


def test_forward_shapes_loss_masks_padding_and_gradients_flow():
    m = small_model()
    images = torch.rand(3, 3, 64, 64)
    caps = torch.tensor([[START, 5, 6, END, NULL], [START, 7, END, NULL, NULL], [START, 4, 4, 4, END]])
    scores, alphas = m(images, caps[:, :-1])
    assert scores.shape == (3, 4, V) and alphas.shape == (3, 4, 64)
    torch.testing.assert_close(alphas.sum(-1), torch.ones(3, 4))
    loss, info = m.loss(images, caps)
    logp = torch.log_softmax(scores, -1)
    out = caps[:, 1:]
    want = -torch.stack([logp[n, t, out[n, t]] for n in range(3) for t in range(4) if out[n, t] != NULL]).mean()
    torch.testing.assert_close(loss, want)
    loss.backward()
    assert m.encoder.convs[0].weight.grad.abs().sum() > 0 and m.attention.w.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        m.loss(images, caps[:2])


def test_uniform_and_zero_context():
    images = torch.rand(2, 3, 64, 64)
    caps = torch.tensor([[START, 5, 6], [START, 7, 8]])
    _, alphas = small_model("uniform")(images, caps)
    torch.testing.assert_close(alphas, torch.full((2, 3, 64), 1 / 64))
    m = small_model("zero")
    a = m.encoder(images)
    z, _ = m.attend(a, m.attention.project(a), torch.zeros(2, 16))
    assert torch.count_nonzero(z) == 0
    with pytest.raises(ValueError):
        ShowAttendTell(V, NULL, START, END, context="hard")


def test_precomputed_annotations_give_the_same_result():
    m = small_model().eval()
    images = torch.rand(2, 3, 64, 64)
    caps = torch.tensor([[START, 5, 6], [START, 7, 8]])
    with torch.no_grad():
        s1, a1 = m(images, caps)
        s2, a2 = m(m.encoder(images), caps)
    torch.testing.assert_close(s1, s2)
    torch.testing.assert_close(a1, a2)


def test_greedy_is_consistent_with_teacher_forcing():
    m = small_model(seed=3).eval()
    images = torch.rand(4, 3, 64, 64)
    d = m.greedy(images, max_length=6)
    assert d.tokens.shape[0] == 4 and d.alphas.shape[:2] == d.tokens.shape
    inp = torch.cat([torch.full((4, 1), START), d.tokens[:, :-1]], 1)
    with torch.no_grad():
        scores, alphas = m(images, inp)
    for n in range(4):
        toks = d.tokens[n].tolist()
        T = toks.index(END) + 1 if END in toks else len(toks)
        assert scores[n, :T].argmax(-1).tolist() == toks[:T]
        torch.testing.assert_close(alphas[n, :T], d.alphas[n, :T])
        assert all(t == NULL for t in toks[T:])


def test_beam_of_one_is_greedy_and_a_wide_beam_finds_the_most_likely_caption():
    m = small_model(seed=4).eval()
    images = torch.rand(3, 3, 64, 64)
    g, b1 = m.greedy(images, max_length=5), m.beam(images, beam_size=1, max_length=5)
    assert torch.equal(g.tokens[:, :b1.tokens.shape[1]], b1.tokens)
    with pytest.raises(ValueError):
        m.beam(images, beam_size=0)
    # exhaustive search over every caption of at most 3 words (stopping at <END> or at the length limit)
    image = images[:1]
    words = [w for w in range(V) if w != END]
    seqs = [[END]] + [[w, END] for w in words] + [[u, v, x] for u in words for v in words for x in range(V)]
    best_lp, best = -np.inf, None
    with torch.no_grad():
        a = m.encoder(image)
        for chunk in range(0, len(seqs), 512):
            batch = seqs[chunk:chunk + 512]
            toks = torch.tensor([s + [NULL] * (3 - len(s)) for s in batch])
            inp = torch.cat([torch.full((len(batch), 1), START), toks[:, :-1]], 1)
            lp = torch.log_softmax(m(a.expand(len(batch), -1, -1), inp)[0], -1)
            for n, s in enumerate(batch):
                total = sum(float(lp[n, t, s[t]]) for t in range(len(s)))
                if total > best_lp:
                    best_lp, best = total, s
    found = m.beam(image, beam_size=200, max_length=3).tokens[0].tolist()
    assert found[:len(best)] == best


def test_soft_attention_gradient_reaches_the_attention():
    torch.manual_seed(0)
    soft = ShowAttendTell(V, NULL, START, END, wordvec_dim=8, hidden_dim=16, attn_dim=8,
                          encoder=GridEncoder((4, 8, 8)))
    a = torch.randn(4, 64, soft.encoder.out_dim)
    loss, _ = soft.loss(a, torch.tensor([[START, 3, 4, END]] * 4))
    grads = torch.autograd.grad(loss, list(soft.attention.parameters()))
    assert sum(float(g.abs().sum()) for g in grads) > 0
