"""Tests of the Show, Attend and Tell model, the grounding scores, the attention figures and the chapter's checks."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from rnnbook.data.scenes import COLORS, SHAPES, Obj, make_scenes
from rnnbook.exercises.attention import (check_answer_features, check_doubly_stochastic, check_majority_answer,
                                         check_peak_in_mask, check_soft_attention, reference_answer_features,
                                         reference_doubly_stochastic, reference_glimpse, reference_majority_answer,
                                         reference_soft_attention)
from rnnbook.grounding import cell_labels, grid_coverage, grounding_scores, referred_objects
from rnnbook.models.attention import (GridEncoder, ShowAttendTell, SoftAttention, coordinate_channels,
                                      doubly_stochastic_penalty)
from rnnbook.train.tasks import pretrain_encoder
from rnnbook.viz.attention import caption_attention_figure, vqa_attention_figure

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


def test_pretrain_encoder_lowers_the_loss():
    scenes = make_scenes(64, seed=0)
    labels = {k: torch.from_numpy(v) for k, v in cell_labels(scenes).items()}
    torch.manual_seed(0)
    losses = pretrain_encoder(GridEncoder((4, 8, 8)), torch.from_numpy(scenes.images), labels, steps=30,
                              batch_size=16, progress=False)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
    with pytest.raises(ValueError):
        pretrain_encoder(GridEncoder(), torch.rand(2, 3, 64, 64), {}, steps=1)


def test_grid_coverage_and_cell_labels():
    masks = np.zeros((1, 2, 16, 16), dtype=bool)
    masks[0, 0, :8, :8] = True          # fills cell (0, 0) of a 2x2 grid
    masks[0, 1, 8:12, 8:16] = True      # half of cell (1, 1)
    cov = grid_coverage(masks, (2, 2))
    np.testing.assert_allclose(cov, [[[1, 0, 0, 0], [0, 0, 0, 0.5]]])
    with pytest.raises(ValueError):
        grid_coverage(masks, (3, 3))
    scenes = make_scenes(5, seed=1)
    lab = cell_labels(scenes)
    cov = grid_coverage(scenes.masks, (8, 8))
    for n in range(5):
        for i in range(64):
            k = int(cov[n, :, i].argmax())
            want = scenes.color_ids[n, k] + 1 if cov[n, k, i] >= 0.25 else 0
            assert lab["color"][n, i] == want


def test_referred_objects():
    objs = [Obj("circle", "red", "small", 10, 10, 5, 0, 0), Obj("square", "red", "large", 40, 10, 9, 0, 1),
            Obj("circle", "blue", "small", 40, 40, 5, 1, 1)]
    words = "a small red circle left of a large red square and a small green circle".split()
    # "small red circle" -> 0; "large red square" -> 1; "small green circle" names no object
    assert referred_objects(words, objs) == [(2, 0), (3, 0), (8, 1), (9, 1)]
    assert referred_objects("a small circle".split(), objs) == []   # two small circles: ambiguous


def test_grounding_scores_oracle_and_uniform():
    scenes = make_scenes(6, seed=2)
    words = ["<NULL>", "<START>", "<END>", "a", "small", "large", *COLORS, *SHAPES]
    w2i = {w: i for i, w in enumerate(words)}
    inside = grid_coverage(scenes.masks, (8, 8)) > 0
    T = 4 * 3 + 1
    tokens = np.zeros((6, T), dtype=np.int64)
    oracle = np.full((6, T, 64), 1 / 64)
    for n, objs in enumerate(scenes.objects):
        seq = [w2i[w] for o in objs for w in ("a", o.size, o.color, o.shape)] + [w2i["<END>"]]
        tokens[n, :len(seq)] = seq
        for k in range(len(objs)):
            for t in (4 * k + 2, 4 * k + 3):
                oracle[n, t] = inside[n, k] / inside[n, k].sum()
    g = grounding_scores(tokens, oracle, scenes, words)
    assert g.n_words + g.skipped == 2 * int(scenes.n_objects.sum()) and g.n_words > 0 and g.peak == 1.0
    assert np.isclose(g.mass, 1.0)
    u = grounding_scores(tokens, np.full((6, T, 64), 1 / 64), scenes, words)
    assert np.isclose(u.mass, u.uniform_mass) and u.uniform_mass < 0.3
    with pytest.raises(ValueError):
        grounding_scores(tokens[:, :3], oracle, scenes, words)


def test_figures_draw():
    scenes = make_scenes(2, seed=0)
    fig = caption_attention_figure(scenes.images[0], ["a", "red", "<END>"], np.full((3, 64), 1 / 64))
    assert len([ax for ax in fig.axes if ax.images]) == 4
    fig = vqa_attention_figure(scenes.images, ["q1", "q2"], ["red", "two"], ["red", "one"], np.full((2, 2, 64), 1 / 64))
    assert len(fig.axes) == 6
    with pytest.raises(ValueError):
        caption_attention_figure(scenes.images[0], ["a", "b"], np.zeros((1, 64)))


def test_exercise_checks_accept_right_and_reject_wrong(capsys):
    assert check_soft_attention(lambda *args: reference_soft_attention(*args))
    def no_softmax(a, h, W_a, W_h, b, w):
        e = np.tanh(a @ W_a + (h @ W_h + b)[:, None, :]) @ w
        return np.einsum("nl,nld->nd", e, a), e
    assert not check_soft_attention(no_softmax)
    assert "softmax missing" in capsys.readouterr().out
    def not_implemented(*args):
        raise NotImplementedError
    assert not check_soft_attention(not_implemented)
    assert "not implemented" in capsys.readouterr().out

    assert check_doubly_stochastic(reference_doubly_stochastic)
    assert not check_doubly_stochastic(lambda al: float(((1 - al.sum(axis=2)) ** 2).sum(axis=1).mean()))
    assert "axes swapped" in capsys.readouterr().out

    assert check_peak_in_mask(lambda al, ins: (float(al[ins].sum()), bool(ins[np.argmax(al)])))
    assert not check_peak_in_mask(lambda al, ins: (float(ins.mean()), bool(ins[np.argmax(al)])))
    assert "uniform baseline" in capsys.readouterr().out

    assert check_majority_answer(reference_majority_answer)
    assert not check_majority_answer(lambda tr, ans, te: np.full(len(te), np.bincount(ans).argmax()))
    assert "question text ignored" in capsys.readouterr().out


def _hop_params(model, k):
    hop, W_v = model.hops[k], model.W_v[k]
    return tuple(p.detach().numpy() for p in (hop.W_a.weight.T, hop.W_h.weight.T, hop.W_h.bias, hop.w.weight[0],
                                              W_v.weight.T, W_v.bias))


def test_glimpse_and_answer_features_agree_with_the_model():
    from rnnbook.models.vqa import VQAModel

    torch.manual_seed(0)
    model = VQAModel(20, 5, 0, hidden_dim=6, attn_dim=4, encoder=GridEncoder((4, 8, 8))).double()
    a = torch.randn(2, 64, 10, dtype=torch.float64)
    questions = torch.tensor([[3, 4, 5, 0], [6, 7, 0, 0]])
    hop, W_v = model.hops[0], model.W_v[0]
    with torch.no_grad():
        scores = model(a, questions)
        u = model.question(questions)
        alpha = torch.softmax(hop.scores(hop.project(a), u), dim=1)
        u_next = u + torch.tanh(W_v((alpha.unsqueeze(-1) * a).sum(1)))
    u_ref, alpha_ref = reference_glimpse(a.numpy(), u.numpy(), *_hop_params(model, 0))
    np.testing.assert_allclose(alpha_ref, alpha.numpy(), rtol=1e-10)
    np.testing.assert_allclose(u_ref, u_next.numpy(), rtol=1e-10)
    alphas, x = reference_answer_features(a.numpy(), u.numpy(), _hop_params(model, 0), _hop_params(model, 1))
    np.testing.assert_allclose(alphas, model.last_alphas.numpy(), rtol=1e-10)
    with torch.no_grad():
        np.testing.assert_allclose(model.classifier(torch.from_numpy(x)).numpy(), scores.numpy(), rtol=1e-10)


def _softmax_rows(e):
    p = np.exp(e - e.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _features_with(mistake):
    """An answer_features written from scratch, with one step done the wrong way (None: no mistake)."""

    def fn(a, q, hop_1, hop_2):
        act = np.tanh if mistake == "tanh" else (lambda v: np.maximum(v, 0.0))
        e_1 = act(a @ hop_1[0] + (q @ hop_1[1] + hop_1[2])[:, None, :]) @ hop_1[3]
        alpha_1 = _softmax_rows(e_1)
        read_1 = np.einsum("nl,nld->nd", alpha_1, a) @ hop_1[4] + hop_1[5]
        u_1 = {"no tanh": q + read_1, "replaced": np.tanh(read_1)}.get(mistake, q + np.tanh(read_1))
        query_2 = q if mistake == "q" else u_1
        hop = hop_1 if mistake == "hop 1 weights" else hop_2
        e_2 = np.maximum(a @ hop[0] + (query_2 @ hop[1] + hop[2])[:, None, :], 0.0) @ hop[3]
        alpha_2 = _softmax_rows(e_2)
        z_2 = np.einsum("nl,nld->nd", alpha_1 if mistake == "alpha_1 read" else alpha_2, a)
        W_v, b_v = hop_1[4:] if mistake == "hop 1 W_v" else hop_2[4:]
        base = q if mistake == "q base" else u_1
        u_2 = u_1 if mistake == "no second read" else base + np.tanh(z_2 @ W_v + b_v)
        alphas = np.stack([alpha_1, alpha_1 if mistake == "copy" else alpha_2], axis=1)
        e = np.stack([e_1, e_2], axis=1)
        m = {"alpha mean": alphas.mean(2), "sigmoid of mean": _sigmoid(e.mean(2)),
             "no sigmoid": e.mean(2)}.get(mistake, _sigmoid(e).mean(2))
        x = np.concatenate([m, u_2] if mistake == "order" else [u_2, m], axis=1)
        return (alphas.transpose(0, 2, 1) if mistake == "unstacked" else alphas), x

    return fn


@pytest.mark.parametrize("mistake, hint", [
    ("tanh", "tanh instead of relu"),
    ("copy", "a copy of the first glimpse"),
    ("q", "never refined by what the first glimpse read"),
    ("hop 1 weights", "with the first hop's weights"),
    ("replaced", "the query replaced, q forgotten"),
    ("no tanh", "the tanh of the update is missing"),
    ("no second read", "the second glimpse's reading was never added"),
    ("q base", "the first glimpse's update dropped"),
    ("alpha_1 read", "the second update read with alpha_1"),
    ("hop 1 W_v", "with hop 1's W_v"),
    ("alpha mean", "the softmax weights sum to one whatever matched"),
    ("sigmoid of mean", "the sigmoid of the mean score"),
    ("no sigmoid", "the sigmoid is missing"),
    ("order", "the right parts in the wrong order"),
    ("unstacked", "stack alpha_1 and alpha_2 on axis 1"),
])
def test_answer_features_check_names_each_mistake(mistake, hint, capsys):
    assert check_answer_features(_features_with(None))
    assert check_answer_features(reference_answer_features)
    capsys.readouterr()
    assert not check_answer_features(_features_with(mistake))
    out = capsys.readouterr().out
    assert hint in out, out


def test_answer_features_check_survives_a_template_and_a_crash(capsys):
    def template(*args):
        raise NotImplementedError

    assert not check_answer_features(template)
    assert "not implemented yet" in capsys.readouterr().out
    assert not check_answer_features(lambda *args: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not check_answer_features(lambda a, q, h1, h2: reference_answer_features(a, q, h1, h2)[0])
    assert "the pair (alphas, x)" in capsys.readouterr().out
