"""Captioning: the numpy CS231n layers against numerical gradients and torch, the PyTorch captioner's conditioning
and decoders (beam search against exhaustive search), the Flickr8k/COCO loaders on offline fixtures, BLEU, viz and
the exercise checks."""

from __future__ import annotations

import json
import itertools

import numpy as np
import pytest
import torch

from rnnbook.numpy_nn.captioning import (CaptioningRNN, sgd_train, temporal_affine_backward, temporal_affine_forward,
                                         temporal_softmax_loss, word_embedding_backward, word_embedding_forward)
from rnnbook.numpy_nn.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error

WORDS = {"<NULL>": 0, "<START>": 1, "<END>": 2, "<UNK>": 3, "a": 4, "cat": 5, "dog": 6}


# ------------------------------------------------------------------------------------------------ numpy layers
def test_word_embedding_forward_backward():
    rng = np.random.default_rng(0)
    x = np.array([[0, 3, 1, 2], [2, 1, 0, 3]])
    W = rng.standard_normal((5, 3))
    out, cache = word_embedding_forward(x, W)
    for n, t in itertools.product(range(2), range(4)):
        np.testing.assert_array_equal(out[n, t], W[x[n, t]])
    dout = rng.standard_normal(out.shape)
    dW = word_embedding_backward(dout, cache)
    num = eval_numerical_gradient_array(lambda W_: word_embedding_forward(x, W_)[0], W, dout)
    assert rel_error(dW, num) < 1e-9
    with pytest.raises(ValueError, match="indices"):
        word_embedding_forward(np.array([[5]]), W)


def test_temporal_affine_gradients():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    out, cache = temporal_affine_forward(x, w, b)
    np.testing.assert_allclose(out[1, 2], x[1, 2] @ w + b)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = temporal_affine_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda z: temporal_affine_forward(z, w, b)[0], x, dout)) < 1e-8
    assert rel_error(dw, eval_numerical_gradient_array(lambda z: temporal_affine_forward(x, z, b)[0], w, dout)) < 1e-8
    assert rel_error(db, eval_numerical_gradient_array(lambda z: temporal_affine_forward(x, w, z)[0], b, dout)) < 1e-8


def test_temporal_softmax_loss_values_and_gradient():
    # CS231n's sanity values: uniform scores give loss = T * log(V) per caption (times the unmasked fraction)
    N, T, V = 100, 1, 10
    rng = np.random.default_rng(2)
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    assert temporal_softmax_loss(x, y, np.ones((N, T), bool))[0] == pytest.approx(np.log(V) * T, rel=1e-3)
    N, T = 100, 10
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) <= 0.1
    assert temporal_softmax_loss(x, y, mask)[0] == pytest.approx(np.log(V) * mask.sum() / N, rel=1e-2)
    # against torch's cross-entropy (sum over unmasked positions / N) and numerical gradients
    x = rng.standard_normal((7, 8, V))
    y = rng.integers(0, V, (7, 8))
    mask = rng.random((7, 8)) < 0.5
    loss, dx = temporal_softmax_loss(x, y, mask)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x).reshape(-1, V), torch.tensor(y).reshape(-1), reduction="none")
    assert loss == pytest.approx(float((ref * torch.tensor(mask).reshape(-1)).sum() / 7), rel=1e-10)
    assert rel_error(dx, eval_numerical_gradient(lambda z: temporal_softmax_loss(z, y, mask)[0], x)) < 1e-7


def test_captioning_rnn_shapes_and_names():
    m = CaptioningRNN(WORDS, input_dim=20, wordvec_dim=30, hidden_dim=40, cell_type="lstm")
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {"W_embed": (7, 30), "W_proj": (20, 40), "b_proj": (40,), "Wx": (30, 160), "Wh": (40, 160),
                      "b": (160,), "W_vocab": (40, 7), "b_vocab": (7,)}
    assert all(v.dtype == np.float32 for v in m.params.values())
    with pytest.raises(ValueError, match="cell_type"):
        CaptioningRNN(WORDS, cell_type="gru")


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_rnn_gradcheck(cell_type):
    """CS231n's check: every parameter's analytic gradient against centred differences, in float64."""
    rng = np.random.default_rng(3)
    N, D, W, H, T = 2, 4, 5, 6, 5
    m = CaptioningRNN(WORDS, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type=cell_type, dtype=np.float64)
    features = rng.standard_normal((N, D))
    captions = rng.integers(0, len(WORDS), (N, T))
    captions[:, 0] = 1
    captions[0, -2:] = 0  # some <NULL> targets, masked out
    m.params["W_embed"] = rng.standard_normal(m.params["W_embed"].shape)  # O(1) inputs: no tiny gradients
    loss, grads = m.loss(features, captions)
    assert loss > 0
    for name in sorted(m.params):
        num = eval_numerical_gradient(lambda _: m.loss(features, captions)[0], m.params[name], h=1e-5)
        assert rel_error(num, grads[name]) < 1e-5, name


# CS231n's RNN_Captioning / LSTM_Captioning check cells, as they are: a vocabulary without <START> and <END>, every
# parameter set to a linspace, and the loss the assignment expects (its notebooks print 9.83235591003 and
# 9.82445935443); then its gradient check on a tiny model.
CS231N_WORDS = {"<NULL>": 0, "cat": 2, "dog": 3}


@pytest.mark.parametrize("cell_type, lo, hi, expected_loss",
                         [("rnn", -1.5, 0.3, 9.83235591003), ("lstm", -0.5, 1.7, 9.82445935443)])
def test_cs231n_captioning_loss_cell(cell_type, lo, hi, expected_loss):
    N, D, W, H = 10, 20, 30, 40
    word_to_idx = dict(CS231N_WORDS)
    V = len(word_to_idx)
    T = 13
    model = CaptioningRNN(word_to_idx, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type=cell_type,
                          dtype=np.float64)
    for k, v in model.params.items():
        model.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(*v.shape)
    features = np.linspace(lo, hi, num=(N * D)).reshape(N, D)
    captions = (np.arange(N * T) % V).reshape(N, T)
    loss, grads = model.loss(features, captions)
    assert abs(loss - expected_loss) < 1e-9
    with pytest.raises(ValueError, match="<START>"):
        model.sample(features)  # sampling is what needs <START> and <END>


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_cs231n_captioning_gradient_check_cell(cell_type):
    np.random.seed(231)
    batch_size, timesteps, input_dim, wordvec_dim, hidden_dim = 2, 3, 4, 5, 6
    word_to_idx = dict(CS231N_WORDS)
    vocab_size = len(word_to_idx)
    captions = np.random.randint(vocab_size, size=(batch_size, timesteps))
    features = np.random.randn(batch_size, input_dim)
    model = CaptioningRNN(word_to_idx, input_dim=input_dim, wordvec_dim=wordvec_dim, hidden_dim=hidden_dim,
                          cell_type=cell_type, dtype=np.float64)
    loss, grads = model.loss(features, captions)
    for param_name in sorted(grads):
        f = lambda _: model.loss(features, captions)[0]
        param_grad_num = eval_numerical_gradient(f, model.params[param_name], verbose=False, h=1e-6)
        # CS231n prints rel_error; entry by entry it is large where a slope is itself tiny (the LSTM's Wx has
        # entries near 1e-6). Central differences at h = 1e-6 in float64 carry a roundoff of about 1e-10 on each
        # slope (eps * loss / h), so the check is on the absolute error, a hundred times that roundoff
        print(param_name, rel_error(param_grad_num, grads[param_name]))
        assert np.abs(param_grad_num - grads[param_name]).max() < 1e-8, param_name


def test_captioning_rnn_matches_torch_lstm():
    """The numpy LSTM captioner's loss equals a torch re-implementation with the same weights (gates i, f, o, g)."""
    rng = np.random.default_rng(4)
    N, D, W, H, T = 3, 4, 5, 6, 7
    m = CaptioningRNN(WORDS, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type="lstm", dtype=np.float64)
    features = rng.standard_normal((N, D))
    captions = rng.integers(0, len(WORDS), (N, T))
    captions[:, 0] = 1
    captions[1, 4:] = 0
    p = {k: torch.tensor(v) for k, v in m.params.items()}
    lstm = torch.nn.LSTM(W, H, batch_first=True, dtype=torch.float64)
    perm = torch.cat([torch.arange(0, H), torch.arange(H, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    with torch.no_grad():  # torch orders the gate blocks i, f, g, o
        lstm.weight_ih_l0.copy_(p["Wx"].T[perm])
        lstm.weight_hh_l0.copy_(p["Wh"].T[perm])
        lstm.bias_ih_l0.copy_(p["b"][perm])
        lstm.bias_hh_l0.zero_()
    h0 = (torch.tensor(features) @ p["W_proj"] + p["b_proj"]).unsqueeze(0)
    cap = torch.tensor(captions)
    h, _ = lstm(p["W_embed"][cap[:, :-1]], (h0, torch.zeros_like(h0)))
    scores = h @ p["W_vocab"] + p["b_vocab"]
    ce = torch.nn.functional.cross_entropy(scores.reshape(-1, len(WORDS)), cap[:, 1:].reshape(-1), reduction="none")
    want = float((ce * (cap[:, 1:] != 0).reshape(-1)).sum().detach() / N)
    assert m.loss(features, captions)[0] == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_captioning_rnn_overfits_and_samples(cell_type):
    """A tiny model memorises two captions; greedy sampling then reproduces them from the features."""
    feats = np.array([[1.0, 0.0], [0.0, 1.0]])
    caps = np.array([[1, 4, 5, 2, 0], [1, 4, 6, 6, 2]])
    m = CaptioningRNN(WORDS, input_dim=2, wordvec_dim=8, hidden_dim=16, cell_type=cell_type, dtype=np.float64)
    hist = sgd_train(m, feats, caps, num_epochs=300, batch_size=2, learning_rate=2e-2)
    assert hist[-1] < 0.05 < hist[0]
    out = m.sample(feats, max_length=6)
    np.testing.assert_array_equal(out[0, :3], [4, 5, 2])
    np.testing.assert_array_equal(out[1, :4], [4, 6, 6, 2])
    assert (out[0, 3:] == 0).all()


# ------------------------------------------------------------------------------------------- PyTorch captioner
from rnnbook.models.captioner import Captioner, ConvEncoder, PrecomputedFeatures, ResNetEncoder  # noqa: E402
from rnnbook.train.tasks import train_captioner  # noqa: E402


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


# ------------------------------------------------------------------------------------- real data, offline fixture
from rnnbook.data import captions as cap_data  # noqa: E402


@pytest.fixture()
def fixture_dirs(tmp_path):
    """Three tiny JPEGs, a Flickr8k token file and a COCO captions json in the official on-disk formats."""
    from PIL import Image

    img_dir = tmp_path / "Images"
    img_dir.mkdir()
    names = ["1000_aa.jpg", "1001_bb.jpg", "1002_cc.jpg"]
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    for name, c in zip(names, colors):
        Image.new("RGB", (40, 30), c).save(img_dir / name)
    texts = {names[0]: ["A red square .", "Red, red everywhere!"], names[1]: ["A dog runs on the grass ."],
             names[2]: ["The sky is blue .", "A blue picture", "blue blue"]}
    lines = [f"{n}#{k}\t{c}" for n, caps in texts.items() for k, c in enumerate(caps)]
    (tmp_path / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    coco = {"images": [{"id": 7 + i, "file_name": n, "height": 30, "width": 40} for i, n in enumerate(names)],
            "annotations": [{"id": 100 + j, "image_id": 7 + i, "caption": c}
                            for j, (i, c) in enumerate((i, c) for i, n in enumerate(names) for c in texts[n])]}
    (tmp_path / "captions_val2017.json").write_text(json.dumps(coco))
    return tmp_path, img_dir, texts


@pytest.mark.parametrize("kind", ["flickr", "coco"])
def test_real_caption_loaders_offline(fixture_dirs, kind):
    root, img_dir, texts = fixture_dirs
    if kind == "flickr":
        ds = cap_data.flickr_dataset(img_dir, root / "Flickr8k.token.txt", image_size=16)
    else:
        ds = cap_data.CocoCaptionsJSON(img_dir, root / "captions_val2017.json", image_size=16)
    assert len(ds) == 3
    img, caps = ds[0]
    assert img.shape == (3, 16, 16) and caps == texts["1000_aa.jpg"]
    torch.testing.assert_close(img[:, 8, 8], torch.tensor([1.0, 0.0, 0.0]), atol=0.02, rtol=0)
    cleaned = cap_data.dataset_captions(ds)
    assert cleaned[0] == ["a red square", "red red everywhere"] and cleaned[2][0] == "the sky is blue"
    w2i, i2w = cap_data.caption_vocab(cleaned, min_count=2)
    assert i2w[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"] and set(i2w[4:]) == {"blue", "red", "a", "the"}
    arr, idx = cap_data.caption_arrays(cleaned, w2i, max_length=4)
    assert arr.shape == (6, 6) and idx.tolist() == [0, 0, 1, 2, 2, 2]
    assert arr[2].tolist() == [1, w2i["a"], 3, 3, 3, 2]  # 'a dog runs on' cut at 4 words, unknown words -> <UNK>
    feats = cap_data.extract_features(ds, ConvEncoder(image_size=16, feature_dim=5, channels=(4,)), batch_size=2)
    assert feats.shape == (3, 5)


def test_real_caption_loaders_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        cap_data.flickr_dataset(tmp_path / "nope", tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="COCO"):
        cap_data.CocoCaptionsJSON(tmp_path, tmp_path / "captions.json")


# ------------------------------------------------------------------------------------------ BLEU, viz, exercises
def test_caption_bleu_against_known_values():
    from rnnbook.metrics import corpus_bleu, sentence_bleu

    refs = [["a red circle", "there is a red circle"], ["a blue square left of a red circle"]]
    perfect = corpus_bleu(["there is a red circle", "a blue square left of a red circle"], refs)
    assert all(v == pytest.approx(1.0) for v in perfect.values()) and list(perfect) == [f"BLEU-{n}" for n in range(1, 5)]
    # one word wrong out of 8: unigram precision 7/8 on that caption, 10/11 over the corpus (3 + 8 words)
    one_off = corpus_bleu(["a red circle", "a blue square left of a red square"], refs)
    assert one_off["BLEU-1"] == pytest.approx(10 / 11)
    assert 0 < one_off["BLEU-4"] < one_off["BLEU-2"] < one_off["BLEU-1"] < 1
    s = sentence_bleu(["a red circle", "a green triangle"], [["a red circle"], ["a blue square"]])
    assert s[0] == pytest.approx(1.0) and s[1] < 0.3
    with pytest.raises(ValueError):
        corpus_bleu(["x"], [[]])


def test_viz_grids(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from rnnbook.data import scenes as sc
    from rnnbook.viz.captions import caption_grid, caption_panel, failure_grid

    s = sc.make_scenes(6, seed=0, size=32)
    hyps = [c[0] for c in s.captions]
    hyps[2] = "a wrong caption"
    fig = caption_grid(s.images, hyps, s.captions, ncols=3)
    assert len([a for a in fig.axes if a.images]) == 6
    from rnnbook.viz.style import BAD, GOOD

    # wrong: vermillion and a cross; right: blue and a tick (never red against green, never colour alone)
    assert fig.axes[2].title.get_color() == BAD and fig.axes[2].title.get_text().endswith("✗")
    assert fig.axes[0].title.get_color() == GOOD and fig.axes[0].title.get_text().endswith("✓")
    fig2, worst = failure_grid(s.images, hyps, s.captions, np.array([1, 1, 0.1, 1, 0.5, 1.0]), k=2)
    assert worst.tolist() == [2, 4]
    caption_panel(s.images[0], {"greedy": hyps[0]}, s.captions[0]).savefig(tmp_path / "p.png")


def test_exercise_checks(capsys):
    from rnnbook.exercises.captioning import check_temporal_softmax_loss, check_word_embedding_backward

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
