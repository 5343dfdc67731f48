"""Tests of ``rnnbook.interpret``: interpretable cells (Karpathy, Johnson & Fei-Fei 2016): record an LSTM's activations,
define features of the text by code, and rank the cells that follow them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.interpret import (
    c_features,
    gate_saturation,
    pearson,
    position_in_line,
    rank_features,
    rank_units,
    record_lstm,
)
from rnnbook.models.charlm import CharLM


def spans(text: str, *ranges: tuple[int, int]) -> np.ndarray:
    """A hand label: True on the characters text[a:b] of every (a, b), checked by printing them first."""
    out = np.zeros(len(text), dtype=bool)
    for a, b in ranges:
        out[a:b] = True
    return out


# --- features, against hand-labelled strings --------------------------------------------------------------------

def test_position_in_line():
    np.testing.assert_array_equal(position_in_line("ab\ncde\n\nf"), [0, 1, 2, 0, 1, 2, 3, 0, 0])
    assert position_in_line("").shape == (0,)


def test_strings_and_char_literals():
    text = 'x = "a\\"b"; c = \'"\'; s = "";'
    assert (text[4:9], text[16:18], text[25]) == ('"a\\"b', "'\"", '"')  # opening quote .. before the closing one
    np.testing.assert_array_equal(c_features(text)["string"], spans(text, (4, 9), (16, 18), (25, 26)))


def test_comments_block_line_and_tricky_ones():
    text = 'a /* b "q" */ c // d\ne /*/ f */ "/*" g'
    assert (text[3:12], text[17:20], text[24:30]) == ('* b "q" *', "/ d", "*/ f *")
    F = c_features(text)
    np.testing.assert_array_equal(F["comment"], spans(text, (3, 12), (17, 20), (24, 30)))
    assert not F["string"][:13].any()  # a quote inside a comment opens no string
    assert text[32:35] == '"/*'
    np.testing.assert_array_equal(F["string"], spans(text, (32, 35)))  # "/*" inside a string opens no comment


def test_depths_ignore_brackets_in_strings_and_comments():
    text = 'f(a, "(", g(b)) { /* { */ { } }'
    F = c_features(text)
    paren = [0] + [1] * 10 + [2, 2, 1] + [0] * (len(text) - 14)
    np.testing.assert_array_equal(F["paren_depth"], paren)
    assert (text[16], text[21], text[26], text[28]) == ("{", "{", "{", "}")
    assert F["brace_depth"][16] == 1 and F["brace_depth"][21] == 1  # the '{' in the comment does not count
    assert F["brace_depth"][26] == 2 and F["brace_depth"][28] == 1 and F["brace_depth"][-1] == 0


def test_if_condition():
    text = "if (a && (b)) x(); else if(c) y; elif (d) z; notif (e);"
    assert (text[3:12], text[26:28]) == ("(a && (b)", "(c")  # elif and notif are other words
    np.testing.assert_array_equal(c_features(text)["if_condition"], spans(text, (3, 12), (26, 28)))


# --- ranking, against independent computations -----------------------------------------------------------------

def test_pearson_matches_numpy_corrcoef():
    rng = np.random.default_rng(0)
    f = rng.normal(size=200)
    acts = np.stack([f + rng.normal(size=200) * s for s in (0.1, 1.0, 5.0)] + [-f, np.ones(200)], axis=1)
    r = pearson(acts, f)
    for u in range(4):
        assert r[u] == pytest.approx(np.corrcoef(acts[:, u], f)[0, 1], abs=1e-12)
    assert r[4] == 0.0  # a constant unit


# --- recording, against the model's own forward pass ---------------------------------------------------------


def test_recording_matches_forward(lstm):
    ids = np.random.default_rng(2).integers(0, 7, size=40)
    rec = record_lstm(lstm, ids)
    with torch.no_grad():
        logits, (h_n, c_n) = lstm(torch.as_tensor(ids)[None])
        e = lstm.embed(torch.as_tensor(ids)[None])
    np.testing.assert_allclose(rec.logits, logits[0].numpy(), atol=1e-5)
    for l in range(2):
        np.testing.assert_allclose(rec.get("h", l)[-1], h_n[l, 0].numpy(), atol=1e-5)
        np.testing.assert_allclose(rec.get("c", l)[-1], c_n[l, 0].numpy(), atol=1e-5)
    # the gates obey the LSTM's equations: c_t = f c_{t-1} + i g and h_t = o tanh(c_t)
    for l in range(2):
        c = rec.get("c", l)
        c_prev = np.vstack([np.zeros((1, 6)), c[:-1]])
        np.testing.assert_allclose(c, rec.get("f", l) * c_prev + rec.get("i", l) * rec.get("g", l), atol=1e-5)
        np.testing.assert_allclose(rec.get("h", l), rec.get("o", l) * np.tanh(c), atol=1e-5)
        for gate in "ifo":
            assert (rec.get(gate, l) > 0).all() and (rec.get(gate, l) < 1).all()
    # layer 1's h_t over time equals torch.nn.LSTM's output sequence of a one-layer copy
    one = torch.nn.LSTM(5, 6, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one, f"{name}_l0").copy_(getattr(lstm.rnn, f"{name}_l0"))
        out, _ = one(e)
    np.testing.assert_allclose(rec.get("h", 0), out[0].numpy(), atol=1e-5)


def test_recording_rows_and_warmup(lstm):
    ids = np.random.default_rng(3).integers(0, 7, size=53)
    text = "".join("abcdefg"[i] for i in ids)
    rec = record_lstm(lstm, ids, text, rows=3, warmup=8)  # pieces of (53 - 8) // 3 = 15 steps
    assert rec.text == text[8:53] and rec.get("c", 1).shape == (45, 6)
    for r in range(3):
        window = ids[r * 15: 8 + (r + 1) * 15]  # 8 steps of context, then the 15 recorded ones
        with torch.no_grad():
            logits, _ = lstm(torch.as_tensor(window)[None])
        np.testing.assert_allclose(rec.logits[r * 15:(r + 1) * 15], logits[0, 8:].numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="text has"):
        record_lstm(lstm, ids, text[:-1])
    with pytest.raises(ValueError, match="cell='lstm'"):
        record_lstm(CharLM(7, hidden=4, cell="gru"), ids)


def test_rank_finds_a_planted_unit(lstm):
    ids = np.random.default_rng(4).integers(0, 7, size=120)
    rec = record_lstm(lstm, ids)
    feature = np.arange(120) % 10 < 3
    rec.acts[1]["c"][:, 4] = feature + 0.01 * np.random.default_rng(5).normal(size=120)  # plant a detector
    rec.acts[0]["h"][:, 2] = -(np.arange(120) % 10.0)  # and an anti-correlated counter
    ranked = rank_features(rec, {"on": feature, "count": np.arange(120) % 10})
    assert ranked["on"].names[0] == ("c", 1, 4) and ranked["on"].best == pytest.approx(1.0)
    assert ranked["count"].names[0] == ("h", 0, 2) and ranked["count"].signed[0] == pytest.approx(-1.0)
    single = rank_units(rec, feature, "on")
    np.testing.assert_allclose(single.scores, ranked["on"].scores)
    assert np.all(np.diff(ranked["on"].scores) <= 0)


def test_gate_saturation_counts(lstm):
    rec = record_lstm(lstm, np.arange(10) % 7)
    rec.acts[0]["f"][:, 0] = [0.05, 0.05, 0.5, 0.95, 0.95, 0.95, 0.5, 0.5, 0.5, 0.1]
    sat = gate_saturation(rec)
    assert set(sat) == {(l, g) for l in range(2) for g in "ifo"}
    lo, hi = sat[(0, "f")]
    assert lo[0] == pytest.approx(0.2) and hi[0] == pytest.approx(0.3)  # 0.1 itself is not saturated


def test_record_lstm_needs_an_lstm_charlm():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="cell='lstm'"):
        record_lstm(CharLM(7, hidden=6, cell="gru"), np.arange(7))
    with pytest.raises(ValueError, match="cell='lstm'"):
        record_lstm(torch.nn.LSTM(3, 4), np.arange(7))
