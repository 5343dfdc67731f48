"""Tests of ``rnnbook.minchar_batched``: min-char-rnn, fast: the same model and update rule, trained on B parallel
streams with batched matrix products."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import rnnbook.minchar as minchar
from rnnbook.minchar import MinCharRNN, Params, lossFun
from rnnbook.minchar_batched import (
    BatchedMinCharRNN,
    Workspace,
    batched_lossFun,
    loss_per_char,
    params_to,
)
from rnnbook.train import DivergenceError

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


# --- bad input ------------------------------------------------------------------------------------------------


TEXT = "hello world, this is a tiny text to train on. " * 20


def test_2_batched_minchar_diverges_with_a_clear_error():
    model = BatchedMinCharRNN(TEXT, batch_size=2, hidden_size=16, seq_length=8, learning_rate=1e3, seed=0)
    with warnings.catch_warnings(), pytest.raises(DivergenceError) as err:
        warnings.simplefilter("ignore", RuntimeWarning)
        model.train(50)
    assert "learning_rate=1000.0" in str(err.value) and "clip" in str(err.value)
