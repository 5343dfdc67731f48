"""Tests for rnnbook.interpret (recording, features, ranking, saturation), viz.textcolor and the chapter's checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.interpret import (c_features, gate_saturation, pearson, position_in_line, rank_features,
                               rank_units, record_lstm)
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


# --- recording, against the model's own forward pass -----------------------------------------------------------

@pytest.fixture(scope="module")
def lstm():
    torch.manual_seed(0)
    return CharLM(7, hidden=6, layers=2, embed_dim=5).eval()


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


# --- viz ---------------------------------------------------------------------------------------------------------

def test_activation_html():
    from rnnbook.viz.textcolor import activation_color, activation_html

    assert activation_color(0.0) == "rgb(255,255,255)"
    assert activation_color(1.0) == "rgb(214,39,40)" and activation_color(-5.0) == "rgb(31,119,180)"
    out = activation_html("a<\n", [0.0, 1.0, -0.5], title="t")
    assert out.count("<span") == 3 and "&lt;" in out and "rgb(214,39,40)" in out
    with pytest.raises(ValueError, match="one value per character"):
        activation_html("ab", [1.0])


# --- exercise checks ---------------------------------------------------------------------------------------------

def test_check_position_in_line(capsys):
    from rnnbook.exercises.interpret import check_position_in_line

    def right(text):
        out, col = [], 0
        for ch in text:
            out.append(col)
            col = 0 if ch == "\n" else col + 1
        return out

    def wrong(text):  # counts from 1
        return [p + 1 for p in right(text)]

    assert check_position_in_line(right)
    assert not check_position_in_line(wrong) and "starts at 1" in capsys.readouterr().out
    assert not check_position_in_line(lambda text: (_ for _ in ()).throw(NotImplementedError()))
    assert "not implemented" in capsys.readouterr().out


def test_check_auc(capsys):
    from rnnbook.exercises.interpret import check_auc

    def right(scores, labels):
        pos, neg = scores[labels], scores[~labels]
        return np.mean((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None]))

    assert check_auc(right)
    assert not check_auc(lambda s, y: 1 - right(s, y)) and "1 - AUC" in capsys.readouterr().out
    assert not check_auc(lambda s, y: np.mean(s[y][:, None] > s[~y][None]))  # ties not counted half


def test_check_inside_comment(capsys):
    from rnnbook.exercises.interpret import check_inside_comment

    assert check_inside_comment(lambda text: c_features(text)["comment"])

    def naive(text):  # forgets strings
        return c_features(text.replace('"', " "))["comment"]

    assert not check_inside_comment(naive) and "should be outside" in capsys.readouterr().out


def test_cells_html_widget_and_saturation_plot(lstm):
    import matplotlib

    matplotlib.use("Agg")
    from rnnbook.viz.textcolor import cell_widget, cells_html, saturation_plot

    ids = np.arange(30) % 7
    rec = record_lstm(lstm, ids, "".join("ab\ncd e"[i] for i in ids))
    out = cells_html(rec, [("c", 1, 2), ("f", 0, 0)], start=5, length=10, labels=["x", "y"])
    assert out.count("<span") == 20 and "c[layer 2, unit 2]" in out and "f[layer 1, unit 0]" in out
    with pytest.raises(ValueError, match="start"):
        cells_html(rec, [("c", 0, 0)], start=30)
    fig = saturation_plot({"m": gate_saturation(rec)})
    assert len(fig.axes) == 3 and sum(len(ax.collections) for ax in fig.axes) == 6  # 3 gates x 2 layers
    cell_widget(rec, length=10)


def test_record_lstm_needs_an_lstm_charlm():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="cell='lstm'"):
        record_lstm(CharLM(7, hidden=6, cell="gru"), np.arange(7))
    with pytest.raises(ValueError, match="cell='lstm'"):
        record_lstm(torch.nn.LSTM(3, 4), np.arange(7))
