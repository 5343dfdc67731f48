"""CharLM: shapes, equality with a hand-written recurrence, state carrying, sampling, and the chapter's checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.data import Vocab
from rnnbook.models.charlm import CharLM, next_char_probs

from ..tiny_lm import small_lm

V = 6


def _model(cell="lstm", layers=1, seed=0, **kw):
    torch.manual_seed(seed)
    return CharLM(V, hidden=10, layers=layers, cell=cell, **kw).eval()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_shapes_and_state(cell, layers):
    model = _model(cell, layers)
    x = torch.randint(0, V, (3, 5))
    logits, state = model(x)
    assert logits.shape == (3, 5, V)
    zeros = model.init_state(3)
    if cell == "lstm":
        assert isinstance(state, tuple) and state[0].shape == state[1].shape == (layers, 3, 10)
        assert all(torch.count_nonzero(z) == 0 for z in zeros)
    else:
        assert state.shape == zeros.shape == (layers, 3, 10)
    torch.testing.assert_close(model(x, zeros)[0], logits)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_carrying_the_state_over_chunks_equals_one_long_forward(cell):
    model = _model(cell, layers=2)
    x = torch.randint(0, V, (2, 12))
    full, _ = model(x)
    state, parts = None, []
    for chunk in x.split(5, dim=1):
        out, state = model(chunk, state)
        parts.append(out)
    torch.testing.assert_close(torch.cat(parts, 1), full)


def test_rnn_cell_equals_the_lecture_recurrence():
    model = _model("rnn")
    x = torch.randint(0, V, (2, 7))
    E = model.embed.weight
    r = model.rnn
    h = torch.zeros(2, 10)
    want = []
    for t in range(7):
        h = torch.tanh(E[x[:, t]] @ r.weight_ih_l0.T + r.bias_ih_l0 + h @ r.weight_hh_l0.T + r.bias_hh_l0)
        want.append(h @ model.head.weight.T + model.head.bias)
    torch.testing.assert_close(model(x)[0], torch.stack(want, 1))


def test_next_char_probs_temperature_and_top_k():
    logits = torch.tensor([1.0, 3.0, -2.0, 0.5, 2.0])
    for T in (0.3, 1.0, 2.5):
        e = np.exp(logits.numpy() / T)
        np.testing.assert_allclose(next_char_probs(logits, T).numpy(), e / e.sum(), rtol=1e-6)
    p = next_char_probs(logits, 1.0, top_k=2).numpy()
    e = np.exp(logits.numpy()[[1, 4]])
    np.testing.assert_allclose(p[[1, 4]], e / e.sum(), rtol=1e-6)
    assert p[[0, 2, 3]].sum() == 0
    assert next_char_probs(logits, 0.01)[1] > 0.999  # a low temperature is almost greedy
    assert float(next_char_probs(logits, 100.0).min()) > 0.18  # a high one almost uniform
    np.testing.assert_allclose(next_char_probs(logits, 1.0, top_k=99).numpy(), next_char_probs(logits).numpy())
    with pytest.raises(ValueError, match="temperature"):
        next_char_probs(logits, 0.0)
    with pytest.raises(ValueError, match="top_k"):
        next_char_probs(logits, 1.0, top_k=0)


def test_sampling_follows_the_distribution():
    model = _model("gru")
    with torch.no_grad():  # the output ignores the input: logits = bias
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([2.0, 1.0, 0.0, -1.0, -9.0, -9.0]))
    for T, k in [(1.0, None), (2.0, None), (1.0, 2)]:
        ids = model.sample_ids([0], 4000, temperature=T, top_k=k, generator=torch.Generator().manual_seed(1))
        freq = np.bincount(ids, minlength=V) / len(ids)
        want = next_char_probs(model.head.bias.detach(), T, k).numpy()
        np.testing.assert_allclose(freq, want, atol=0.03)


def test_top_1_sampling_is_greedy_decoding():
    model = _model("lstm")
    got = model.sample_ids([1, 2], 15, top_k=1)
    seq, want = [1, 2], []
    with torch.no_grad():
        for _ in range(15):
            nxt = int(model(torch.tensor([seq]))[0][0, -1].argmax())
            want.append(nxt)
            seq.append(nxt)
    assert got == want


def test_sample_text_is_seeded_and_starts_with_the_prime():
    vocab = Vocab.from_text("abcdef")
    model = _model("lstm")
    a = model.sample(vocab, "cab", 40, temperature=1.2, seed=3)
    assert a.startswith("cab") and len(a) == 43 and set(a) <= set("abcdef")
    assert a == model.sample(vocab, "cab", 40, temperature=1.2, seed=3)
    assert a != model.sample(vocab, "cab", 40, temperature=1.2, seed=4)
    assert not model.training


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="cell"):
        CharLM(V, cell="transformer")
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        _model()(torch.randn(2, 3))
    with pytest.raises(ValueError, match="priming"):
        _model().sample_ids([], 3)
    with pytest.raises(ValueError, match="dropout"):
        CharLM(V, dropout=1.0)


def test_dropout_is_active_only_in_training():
    model = _model("lstm", layers=2, dropout=0.5)
    x = torch.randint(0, V, (2, 6))
    torch.testing.assert_close(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_as_cells_computes_the_same_function(cell):
    torch.manual_seed(0)
    model = CharLM(7, hidden=6, layers=2, cell=cell, embed_dim=5).eval()
    x = torch.randint(0, 7, (3, 11))
    with torch.no_grad():
        logits, _ = model(x)
        h, _ = model.as_cells()(model.embed_ids(x))
        torch.testing.assert_close(model.readout(h), logits, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="'rnn'"):
        CharLM(7, hidden=6, cell="rnn").as_cells()


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [20, -1])
def test_charlm_refuses_ids_outside_the_vocabulary(bad):
    x = torch.tensor([[0, 1, bad]])
    with pytest.raises(ValueError, match=r"ids in \[0, 20\) \(vocab_size\)"):
        small_lm()(x)
