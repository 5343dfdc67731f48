"""min-char-rnn: the faithful port against the listing itself, its command line, gradients, and the batched twin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnbook.minchar as minchar
from rnnbook.data import load_text
from rnnbook.env import blas_threads
from rnnbook.minchar import MinCharRNN, Params, forward, init_params, lossFun, main, sample
from rnnbook.minchar_batched import (
    BatchedMinCharRNN, Workspace, batched_lossFun, loss_per_char, params_to,
)
from rnnbook.numpy_nn.gradcheck import eval_numerical_gradient, rel_error

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


@pytest.fixture(scope="module")
def shakespeare() -> str:
    return load_text("tinyshakespeare", progress=False)


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


# --- the batched twin -------------------------------------------------------------------------------------------

def test_twin_lossFun_with_one_stream_matches_lossFun_along_a_training_run(shakespeare, monkeypatch):
    """Along 300 iterations of the faithful port, the twin's loss and gradients on the same chunk, state and
    parameters equal lossFun's (up to rounding)."""
    checked = []

    def both(inputs, targets, hprev, params, clip=minchar.CLIP):
        want = lossFun(inputs, targets, hprev, params, clip)
        got = batched_lossFun(np.array(inputs)[:, None], np.array(targets)[:, None], hprev.T, params, clip)
        assert got[0] == pytest.approx(want[0], rel=1e-12)
        for w, g in zip(want[1:6], got[1:6]):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got[6], want[6].T, rtol=1e-9, atol=1e-12)
        checked.append(1)
        return want

    monkeypatch.setattr(minchar, "lossFun", both)
    MinCharRNN(shakespeare[:3000], seed=2).train(300, sample_every=0)
    assert len(checked) == 300


def test_twin_with_one_stream_trains_like_the_port(shakespeare):
    text = shakespeare[:1000]
    port = MinCharRNN(text, seed=4)
    twin = BatchedMinCharRNN(text, batch_size=1, seed=4)
    for name in minchar.PARAM_NAMES:
        np.testing.assert_array_equal(getattr(twin.params, name), getattr(port.params, name))
    # Adagrad's first steps divide by sqrt(g^2 + 1e-8): rounding differences grow ~10x per iteration, so the two
    # runs are compared closely for the first few updates only ...
    for _ in range(4):
        port.step(sample_every=0)
        twin.step()
    np.testing.assert_allclose(twin.losses, port.losses, rtol=1e-10)
    for a, b in zip(twin.params.as_list(), port.params.as_list()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    # ... and the data pointer and the memory resets stay in step for many sweeps over the text.
    small = MinCharRNN(text[:130], hidden_size=3, seed=0)
    small_twin = BatchedMinCharRNN(text[:130], batch_size=1, hidden_size=3, seed=0)
    for _ in range(60):
        resets = small.p + 26 >= 130, small_twin.p + 26 >= small_twin.stretch
        small.step(sample_every=0)
        small_twin.step()
        assert resets[0] == resets[1] and small.p == small_twin.p


def test_twin_loss_is_the_mean_over_streams_of_lossFun():
    rng = np.random.default_rng(6)
    H, V, T, B = 9, 6, 7, 4
    params = Params(rng.standard_normal((H, V)), rng.standard_normal((H, H)) * 0.4, rng.standard_normal((V, H)),
                    rng.standard_normal((H, 1)) * 0.1, rng.standard_normal((V, 1)) * 0.1)
    inputs, targets, hprev = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B)), rng.standard_normal((B, H)) * 0.5
    got = batched_lossFun(inputs, targets, hprev, params, clip=None)
    per_stream = [lossFun(inputs[:, b].tolist(), targets[:, b].tolist(), hprev[[b]].T, params, clip=None)
                  for b in range(B)]
    assert got[0] == pytest.approx(np.mean([r[0] for r in per_stream]), rel=1e-12)
    for k in range(1, 6):
        np.testing.assert_allclose(got[k], np.mean([r[k] for r in per_stream], axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[6], np.hstack([r[6] for r in per_stream]).T, rtol=1e-12)
    got32 = batched_lossFun(inputs, targets, hprev.astype(np.float32), params_to(params, np.float32), clip=None)
    assert got32[1].dtype == np.float32 and got32[0] == pytest.approx(got[0], rel=1e-5)
    for k in range(1, 6):
        np.testing.assert_allclose(got32[k], got[k], rtol=1e-3, atol=1e-4)


def test_a_reused_workspace_gives_what_a_fresh_one_gives():
    # the workspace's buffers are overwritten by each call: nothing of one chunk may leak into the next
    rng = np.random.default_rng(7)
    H, V, T, B = 8, 5, 6, 3
    params = Params(rng.standard_normal((H, V)), rng.standard_normal((H, H)) * 0.4, rng.standard_normal((V, H)),
                    rng.standard_normal((H, 1)) * 0.1, rng.standard_normal((V, 1)) * 0.1)
    work = Workspace(T, B, H, V)
    for _ in range(3):
        inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
        hprev = rng.standard_normal((B, H)) * 0.5
        reused = batched_lossFun(inputs, targets, hprev, params, work=work)
        fresh = batched_lossFun(inputs, targets, hprev, params)
        assert reused[0] == fresh[0]
        for a, b in zip(reused[1:], fresh[1:]):
            np.testing.assert_array_equal(a, b)
    assert not work.onehot.any()
    # a workspace of another shape is not used (and not broken)
    other = batched_lossFun(inputs[:4], targets[:4], hprev, params, work=work)
    np.testing.assert_array_equal(other[1], batched_lossFun(inputs[:4], targets[:4], hprev, params)[1])


def test_twin_lossFun_rejects_wrong_shapes_clearly():
    params = Params(np.zeros((4, 3)), np.zeros((4, 4)), np.zeros((3, 4)), np.zeros((4, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"hprev must be \(B, H\) = \(2, 4\)"):
        batched_lossFun(np.zeros((5, 2), int), np.zeros((5, 2), int), np.zeros((4, 2)), params)
    with pytest.raises(ValueError, match=r"\(T, B\) int arrays"):
        batched_lossFun(np.zeros(5, int), np.zeros(5, int), np.zeros((1, 4)), params)


def test_twin_streams_read_equal_stretches_of_the_text():
    text = "".join(chr(97 + (i * 7) % 26) for i in range(400))
    twin = BatchedMinCharRNN(text, batch_size=3, hidden_size=5, seq_length=10, seed=0)
    params = twin.params.copy()
    loss = twin.step()
    L = len(text) // 3
    ids = [twin.char_to_ix[c] for c in text]
    want = np.mean([lossFun(ids[b * L:b * L + 10], ids[b * L + 1:b * L + 11], np.zeros((5, 1)), params)[0]
                    for b in range(3)])
    assert twin.stretch == L and loss == pytest.approx(want, rel=1e-12)
    assert twin.chars_seen == 3 * 10


def test_loss_per_char_matches_lossFun_over_chunks(shakespeare):
    model = MinCharRNN(shakespeare[:2000], hidden_size=20, seed=0).train(50, sample_every=0)
    ids = [model.char_to_ix[c] for c in shakespeare[:1001]]
    h, total = np.zeros((20, 1)), 0.0
    for s in range(0, 1000, 25):
        loss, *_, h = lossFun(ids[s:s + 25], ids[s + 1:s + 26], h, model.params)
        total += loss
    assert loss_per_char(model.params, np.array(ids), batch_size=1) == pytest.approx(total / 1000, rel=1e-10)


def test_twin_refuses_bad_settings():
    with pytest.raises(ValueError, match="per stream"):
        BatchedMinCharRNN("x" * 100, batch_size=8)
    with pytest.raises(ValueError, match="float32 or float64"):
        BatchedMinCharRNN("x" * 100, batch_size=1, dtype=np.int32)
    with pytest.raises(ValueError, match="batch_size"):
        BatchedMinCharRNN("x" * 100, batch_size=0)


def test_blas_threads_limits_and_restores_the_setting():
    from threadpoolctl import threadpool_info

    def blas_pools():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    a = np.ones((300, 300))
    before = blas_pools()
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    n = 2 if max(before) == 1 else 1  # a limit that differs from the setting now
    with blas_threads(n):
        inside = a @ a
        assert blas_pools() == [n] * len(before)
    np.testing.assert_array_equal(inside, a @ a)
    assert blas_pools() == before
    with blas_threads(None):
        assert blas_pools() == before
    with pytest.raises(ValueError, match="threads >= 1"):
        with blas_threads(0):
            pass


# --- the chapter's exercise checks and the sampling table -------------------------------------------------------

def test_check_softmax_temperature(capsys):
    from rnnbook.exercises.minchar import check_softmax_temperature

    def right(y, T):
        z = y / T - np.max(y / T)
        return np.exp(z) / np.exp(z).sum()

    def no_shift(y, T):
        return np.exp(y / T) / np.exp(y / T).sum()

    def times_t(y, T):
        z = y * T - np.max(y * T)
        return np.exp(z) / np.exp(z).sum()

    def todo(y, T):
        raise NotImplementedError

    assert check_softmax_temperature(right) and "correct" in capsys.readouterr().out
    with np.errstate(all="ignore"):
        assert not check_softmax_temperature(no_shift)
    assert "overflow" in capsys.readouterr().out
    assert not check_softmax_temperature(times_t)
    assert "multiply, not divide" in capsys.readouterr().out
    assert not check_softmax_temperature(todo) and "not implemented" in capsys.readouterr().out


def test_check_batched_forward_loss(capsys):
    from rnnbook.exercises.minchar import check_batched_forward_loss

    def right(inputs, targets, hprev, params):
        T, B = inputs.shape
        h, loss = hprev, 0.0
        for t in range(T):
            h = np.tanh(params.Wxh[:, inputs[t]].T + h @ params.Whh.T + params.bh.T)
            y = h @ params.Why.T + params.by.T
            p = np.exp(y) / np.exp(y).sum(axis=1, keepdims=True)
            loss -= np.log(p[np.arange(B), targets[t]]).sum()
        return loss / B, h

    def summed(inputs, targets, hprev, params):
        loss, h = right(inputs, targets, hprev, params)
        return loss * inputs.shape[1], h

    assert check_batched_forward_loss(right) and "correct" in capsys.readouterr().out
    assert not check_batched_forward_loss(summed)
    assert "sum over streams" in capsys.readouterr().out
    assert not check_batched_forward_loss(lambda *a: 1.0)
    assert "(loss, h_last)" in capsys.readouterr().out


def test_chunk_is_the_listings_inputs_and_targets_at_the_pointer():
    model = MinCharRNN("hello world, hello rnn", hidden_size=4, seq_length=5, seed=0)
    model.p = 3
    inputs, targets = model.chunk()
    assert "".join(model.ix_to_char[i] for i in inputs) == "lo wo"
    assert "".join(model.ix_to_char[i] for i in targets) == "o wor"
