"""Tests of ``rnnbook.minchar``: min-char-rnn, faithfully: Karpathy's 112-line character-level vanilla RNN, ported to
Python 3."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import rnnbook.minchar as minchar
from rnnbook.minchar import (
    MinCharRNN,
    Params,
    forward,
    init_params,
    lossFun,
    main,
    sample,
)
from rnnbook.minchar_batched import (
    BatchedMinCharRNN,
)
from rnnbook.numpy_nn.gradcheck import eval_numerical_gradient, rel_error
from rnnbook.train import DivergenceError

LISTING = Path(__file__).with_name("minchar_listing.py")


class _Stop(Exception):
    pass


def run_listing(folder: Path, text: str, seed: int, last_iter: int, monkeypatch) -> tuple[list[str], dict]:
    """Run the transcription of the listing on ``text`` after np.random.seed(seed), until it prints iteration
    ``last_iter``; return what it printed and its globals (the listing's loop never ends on its own)."""
    (folder / "input.txt").write_text(text)
    monkeypatch.chdir(folder)
    lines: list[str] = []

    def listing_print(line):
        lines.append(line)
        if line.startswith("iter %d," % last_iter):
            raise _Stop

    scope = {"print": listing_print, "__name__": "min_char_rnn"}
    np.random.seed(seed)
    with pytest.raises(_Stop):
        exec(compile(LISTING.read_text(), str(LISTING), "exec"), scope)
    return lines, scope


def test_port_prints_what_the_listing_prints_for_2000_iterations(shakespeare, tmp_path, monkeypatch):
    text = shakespeare[:20_000]  # 800 chunks of 25: the data pointer wraps around twice in 2,000 iterations
    want, scope = run_listing(tmp_path, text, seed=7, last_iter=2000, monkeypatch=monkeypatch)
    model = MinCharRNN(text, seed=7)
    got = [model.header()]
    model.train(2000, echo=got.append)
    # the listing printed iterations 0..2000; the port ran 0..1999
    assert len(want) == 1 + 2 * 21 and got == want[:-2]
    assert got[-1].startswith("iter 1900, loss: ")
    # after 2,000 Adagrad updates the parameters and the Adagrad memories are the same bits
    for name, param, mem in zip(minchar.PARAM_NAMES, model.params.as_list(), model.mems):
        assert np.array_equal(param, scope[name]), name
        assert np.array_equal(mem, scope["m" + name]), "m" + name
    # and the model has learned something: the listing's smooth loss fell from 25 ln V
    assert model.smooth_loss < 0.8 * 25 * np.log(model.vocab_size)


def test_command_line_prints_the_listing_lines(shakespeare, tmp_path, monkeypatch):
    text = shakespeare[:3_000]
    want, _ = run_listing(tmp_path, text, seed=3, last_iter=200, monkeypatch=monkeypatch)
    done = subprocess.run([sys.executable, "-m", "rnnbook.minchar", str(tmp_path / "input.txt"), "--seed", "3",
                           "--iters", "201"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "\n".join(want) + "\n"


@pytest.mark.parametrize("content, message", [
    (None, "no such text file"),
    (b"", "is empty"),
    (b"too short for 25 steps", "has 22 characters; min-char-rnn needs at least seq_length + 1 = 26"),
    ("caf\u00e9 au lait, un cr\u00e8me br\u00fbl\u00e9e, merci".encode("latin-1"), "not UTF-8"),
])
def test_command_line_errors(tmp_path, capsys, content, message):
    path = tmp_path / "data.txt"
    if content is not None:
        path.write_bytes(content)
    assert main([str(path), "--iters", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and str(path) in err


def test_command_line_accepts_exactly_seq_length_plus_one_characters(tmp_path, capsys):
    path = tmp_path / "data.txt"
    path.write_text("abcdefghijklmnopqrstuvwxyz")  # 26 = seq_length + 1
    assert main([str(path), "--iters", "3", "--sample-every", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "data has 26 characters, 26 unique."
    assert [line.split(",")[0] for line in out if line.startswith("iter")] == ["iter 0", "iter 1", "iter 2"]


def test_bad_arguments_exit_with_usage(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("x" * 100)
    for args in (["--iters", "-1"], ["--sample-every", "0"]):
        with pytest.raises(SystemExit) as info:
            main([str(path), *args])
        assert info.value.code == 2


def _small_problem(seed=0, H=7, V=5, T=6):
    rng = np.random.default_rng(seed)
    params = Params(rng.standard_normal((H, V)) * 0.5, rng.standard_normal((H, H)) * 0.5,
                    rng.standard_normal((V, H)) * 0.5, rng.standard_normal((H, 1)) * 0.1,
                    rng.standard_normal((V, 1)) * 0.1)
    inputs, targets = rng.integers(0, V, T).tolist(), rng.integers(0, V, T).tolist()
    return params, inputs, targets, rng.standard_normal((H, 1)) * 0.5


def test_lossFun_gradients_match_numerical_gradients():
    params, inputs, targets, hprev = _small_problem()
    _, *grads, _ = lossFun(inputs, targets, hprev, params, clip=None)
    for name, param, grad in zip(minchar.PARAM_NAMES, params.as_list(), grads):
        num = eval_numerical_gradient(lambda _: lossFun(inputs, targets, hprev, params, clip=None)[0], param)
        assert rel_error(grad, num) < 1e-6, name


def test_lossFun_loss_is_the_summed_cross_entropy_of_forward():
    params, inputs, targets, hprev = _small_problem(1)
    hs, ys, ps = forward(inputs, hprev, params)
    loss, *_, h_last = lossFun(inputs, targets, hprev, params)
    logp = ys - np.log(np.exp(ys).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-logp[np.arange(len(targets)), targets].sum(), rel=1e-12)
    np.testing.assert_allclose(h_last.ravel(), hs[-1], rtol=1e-12)
    np.testing.assert_allclose(ps.sum(axis=1), 1.0, rtol=1e-12)


def test_lossFun_clips_each_gradient_entry_to_5():
    params, inputs, targets, hprev = _small_problem(2, T=40)
    params.Why *= 20  # large outputs -> large gradients
    _, *raw, _ = lossFun(inputs, targets, hprev, params, clip=None)
    _, *clipped, _ = lossFun(inputs, targets, hprev, params)
    assert max(np.abs(g).max() for g in raw) > 5
    for r, c in zip(raw, clipped):
        np.testing.assert_array_equal(c, np.minimum(np.maximum(r, -5), 5))


def test_init_params_draws_Wxh_Whh_Why_in_order_from_the_legacy_generator():
    np.random.seed(11)
    p = init_params(vocab_size=4, hidden_size=3)
    np.random.seed(11)
    draws = np.random.randn(3 * 4 + 3 * 3 + 4 * 3) * 0.01
    np.testing.assert_array_equal(p.Wxh.ravel(), draws[:12])
    np.testing.assert_array_equal(p.Whh.ravel(), draws[12:21])
    np.testing.assert_array_equal(p.Why.ravel(), draws[21:])
    assert not p.bh.any() and not p.by.any() and p.bh.shape == (3, 1) and p.by.shape == (4, 1)


def test_cold_sampling_is_greedy():
    params, _, _, h = _small_problem(3)
    got = sample(h.copy(), 2, 15, params, temperature=1e-4)
    x, want, hh = 2, [], h.copy()
    for _ in range(15):  # argmax decoding, written independently
        hh = np.tanh(params.Wxh[:, [x]] + params.Whh @ hh + params.bh)
        x = int(np.argmax(params.Why @ hh + params.by))
        want.append(x)
    assert got == want


def test_sampling_at_temperature_one_is_the_listing_sampler():
    params, _, _, h = _small_problem(4)
    np.random.seed(5)
    a = sample(h, 0, 50, params)
    np.random.seed(5)
    b = sample(h, 0, 50, params, temperature=1.0)
    assert a == b and len(set(a)) > 1
    with pytest.raises(ValueError, match="temperature"):
        sample(h, 0, 5, params, temperature=0)


def test_vocabulary_is_sorted_and_too_short_text_is_refused():
    model = MinCharRNN("hello world, hello rnn", hidden_size=4, seq_length=5, seed=0)
    assert model.chars == sorted(set("hello world, hello rnn"))
    with pytest.raises(ValueError, match="needs at least seq_length"):
        MinCharRNN("hello", seq_length=5)


def test_chunk_is_the_listings_inputs_and_targets_at_the_pointer():
    model = MinCharRNN("hello world, hello rnn", hidden_size=4, seq_length=5, seed=0)
    model.p = 3
    inputs, targets = model.chunk()
    assert "".join(model.ix_to_char[i] for i in inputs) == "lo wo"
    assert "".join(model.ix_to_char[i] for i in targets) == "o wor"


# --- bad input ------------------------------------------------------------------------------------------------


TEXT = "hello world, this is a tiny text to train on. " * 20


# ---- min-char-rnn at learning rate 1e3 ---------------------------------------------------------------------------

def test_2_minchar_diverges_with_a_clear_error():
    model = MinCharRNN(TEXT, hidden_size=16, seq_length=8, learning_rate=1e3, seed=0)
    with warnings.catch_warnings(), pytest.raises(DivergenceError) as err:
        warnings.simplefilter("ignore", RuntimeWarning)
        model.train(50)
    assert "learning_rate=1000.0" in str(err.value) and "clip" in str(err.value)


def test_2_minchar_cli_exits_nonzero_naming_the_learning_rate(tmp_path, capsys):
    data = tmp_path / "input.txt"
    data.write_text(TEXT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        status = minchar.main([str(data), "--iters", "300", "--learning-rate", "1e3", "--hidden-size", "16",
                               "--sample-every", "1"])
    err = capsys.readouterr().err
    assert status == 1 and "learning_rate=1000.0" in err and "--learning-rate" in err


def test_2_sampling_from_nan_weights_is_a_divergence_not_a_numpy_error():
    params = minchar.init_params(5, 4)
    params.Why[:] = np.nan
    with pytest.raises(DivergenceError, match="learning rate"):
        minchar.sample(np.zeros((4, 1)), 0, 3, params)


def test_minchar_sample_text_names_an_unknown_seed_char():
    model = MinCharRNN(TEXT, hidden_size=8, seq_length=8, seed=0)
    with pytest.raises(ValueError, match="seed_char 'Z' is not in the model's vocabulary"):
        model.sample_text(5, seed_char="Z")
    batched = BatchedMinCharRNN(TEXT, batch_size=2, hidden_size=8, seq_length=8, seed=0)
    with pytest.raises(ValueError, match="seed_char 'Z'"):
        batched.sample_text(5, seed_char="Z")
