"""Tests of ``rnnbook.tbptt``: truncated backpropagation through time (TBPTT) for language models and other many-to-many
streams."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook.data.sequences import IGNORE, recall_chunks
from rnnbook.data.streams import tbptt_batches
from rnnbook.env import get_device
from rnnbook.metrics import Evaluation
from rnnbook.models.charlm import CharLM
from rnnbook.tbptt import (
    detach_state,
    evaluate,
    evaluate_text,
    gradient_mask,
    text_stream,
    train_lm,
    update_cost,
)
from rnnbook.train import DivergenceError, lr_factor
from rnnbook.train.checkpoint import CheckpointError, load_checkpoint

from .tiny_lm import V, _model, model, small_lm


def _ids(n: int = 600, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, V, size=n)


def _reference_tbptt(model, ids, batch_size, k, steps, lr, carry):
    """A plain loop written out from the lecture's description, with no helper from rnnbook.tbptt."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rows = ids[: len(ids) // batch_size * batch_size].reshape(batch_size, -1)
    starts = list(range(0, rows.shape[1] - 1, k))
    state, losses = None, []
    for step in range(steps):
        start = starts[step % len(starts)]
        if step % len(starts) == 0 or not carry:
            state = None
        stop = min(start + k, rows.shape[1] - 1)
        x, y = torch.as_tensor(rows[:, start:stop]), torch.as_tensor(rows[:, start + 1 : stop + 1])
        if isinstance(state, tuple):
            state = tuple(s.detach() for s in state)
        elif state is not None:
            state = state.detach()
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("carry", [True, False])
def test_train_lm_matches_reference_loop(cell, carry):
    ids = _ids(400)
    a, b = _model(cell), _model(cell)
    # 400 ids in 4 rows of 100: 99 input steps per row, chunks of 16 -> 7 chunks; 10 steps cross a pass boundary
    hist = train_lm(a, text_stream(ids, 4, 16), steps=10, lr=1e-2, carry_state=carry, progress=False, device="cpu")
    ref = _reference_tbptt(b, ids, 4, 16, 10, 1e-2, carry)
    np.testing.assert_allclose(hist.loss, ref, rtol=1e-5)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(p, q, msg=name)
    chunks = list(tbptt_batches(ids, 4, 16))
    assert len(chunks) == 7 and hist.steps == 10
    assert hist.tokens == sum(y.size for _, y in chunks + chunks[:3])


def test_carrying_changes_training():
    ids = _ids(400)
    a, b = _model(), _model()
    h1 = train_lm(a, text_stream(ids, 4, 8), steps=6, progress=False, device="cpu")
    h2 = train_lm(b, text_stream(ids, 4, 8), steps=6, carry_state=False, progress=False, device="cpu")
    assert h1.loss[0] == h2.loss[0] and h1.loss[1] != h2.loss[1]


def test_truncation_stops_the_gradient_at_the_chunk_boundary():
    model = _model("lstm")
    x = torch.as_tensor(_ids(20).reshape(2, 10))
    emb = model.embed(x).detach().requires_grad_(True)
    h1, state = model.rnn(emb[:, :5])
    h2, _ = model.rnn(emb[:, 5:], detach_state(state))
    (grad,) = torch.autograd.grad(model.head(h2).sum(), emb)
    assert torch.count_nonzero(grad[:, :5]) == 0 and torch.count_nonzero(grad[:, 5:]) > 0
    # without the detach the same loss reaches the first chunk
    h2, _ = model.rnn(emb[:, 5:], state)
    (grad,) = torch.autograd.grad(model.head(h2).sum(), emb)
    assert torch.count_nonzero(grad[:, :5]) > 0


def test_detach_state_keeps_values_and_structure():
    w = torch.ones(3, requires_grad=True)
    h, c = w * 2, w * 3
    assert detach_state(None) is None
    out = detach_state((h, c))
    assert isinstance(out, tuple) and not out[0].requires_grad and torch.equal(out[1], c.detach())
    assert h.grad_fn is not None  # the original is untouched


def test_gradient_mask_is_the_block_lower_triangle():
    T, k = 11, 4
    t, s = np.indices((T, T))
    np.testing.assert_array_equal(gradient_mask(T, k), (s <= t) & (s // k == t // k))
    np.testing.assert_array_equal(gradient_mask(6, 6), s[:6, :6] <= t[:6, :6])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_evaluate_equals_one_long_forward(cell):
    model = _model(cell).eval()
    ids = _ids(301)
    rows = ids[:300].reshape(3, 100)
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(rows[:, :-1]))
        logp = torch.log_softmax(logits.double(), -1)
        want = -logp.gather(-1, torch.as_tensor(rows[:, 1:])[..., None]).mean().item()
        acc = (logits.argmax(-1) == torch.as_tensor(rows[:, 1:])).double().mean().item()
    got = evaluate_text(model, ids, batch_size=3, seq_len=7)
    assert got.nats == pytest.approx(want, rel=1e-5)
    assert got.accuracy == pytest.approx(acc)
    assert got.bits == pytest.approx(want / math.log(2), rel=1e-5)
    assert got.count == 3 * 99


def test_evaluation_of_a_uniform_model_is_log_vocab():
    model = _model()
    for p in model.head.parameters():
        torch.nn.init.zeros_(p)
    got = evaluate_text(model, _ids(200), batch_size=2, seq_len=9)
    assert got.nats == pytest.approx(math.log(V), rel=1e-6)
    assert got.bits == pytest.approx(math.log2(V), rel=1e-6)
    assert Evaluation(1.0, 0.5, 1).perplexity == pytest.approx(math.e)


def test_checkpoint_round_trip_and_exact_resume(tmp_path):
    ids = _ids(500)
    path = tmp_path / "ckpt.pt"
    straight = _model("lstm")
    h_straight = train_lm(straight, text_stream(ids, 4, 10), steps=14, progress=False, device="cpu")
    first = _model("lstm")
    train_lm(first, text_stream(ids, 4, 10), steps=5, checkpoint=path, progress=False, device="cpu")
    ckpt = torch.load(path, weights_only=True)  # nothing but tensors and plain containers in the file
    assert ckpt["step"] == 5 and isinstance(ckpt["state"], list) and len(ckpt["state"]) == 2
    resumed = _model("lstm", seed=123)  # different initial weights: everything must come from the checkpoint
    h_resumed = train_lm(resumed, text_stream(ids, 4, 10), steps=14, checkpoint=path, resume=True, progress=False,
                         device="cpu")
    np.testing.assert_allclose(h_resumed.loss, h_straight.loss[5:], rtol=1e-6)
    for p, q in zip(resumed.parameters(), straight.parameters()):
        torch.testing.assert_close(p, q)
    fresh = _model("lstm", seed=5)
    load_checkpoint(path, fresh)
    for p, q in zip(fresh.parameters(), straight.parameters()):
        torch.testing.assert_close(p, q)


def test_resume_at_continues_from_the_callers_step_and_state():
    """A caller keeping its own checkpoints (rnnbook.charlm) hands over the step and the carried state."""
    ids = _ids(500)
    straight = _model("lstm")
    h_straight = train_lm(straight, text_stream(ids, 4, 10), steps=8, progress=False, device="cpu")
    model = _model("lstm")
    opt = torch.optim.Adam(model.parameters())  # train_lm sets its learning rate at every update
    states = {}
    train_lm(model, text_stream(ids, 4, 10), steps=3, optimizer=opt, progress=False, device="cpu",
             on_update=lambda step, history, state: states.update({step: state}))
    h_rest = train_lm(model, text_stream(ids, 4, 10), steps=8, optimizer=opt, resume_at=(3, states[3]),
                      progress=False, device="cpu")
    np.testing.assert_allclose(h_rest.loss, h_straight.loss[3:], rtol=1e-6)
    for p, q in zip(model.parameters(), straight.parameters()):
        torch.testing.assert_close(p, q)


def test_divergence_names_learning_rate_and_clipping():
    model = _model()
    with torch.no_grad():
        model.head.bias[0] = float("nan")
    with pytest.raises(DivergenceError, match=r"lr=0\.5.*clip_norm=None.*learning rate.*clip"):
        train_lm(model, text_stream(_ids(), 4, 8), steps=3, lr=0.5, clip_norm=None, progress=False, device="cpu")


def test_training_is_deterministic_on_cpu():
    runs = []
    for _ in range(2):
        model = _model("lstm")
        runs.append(train_lm(model, text_stream(_ids(), 4, 12), steps=8, optimizer="adagrad", lr=0.1,
                             clip_norm=None, clip_value=5.0, progress=False, device="cpu").loss)
    assert runs[0] == runs[1]


def test_training_lowers_the_loss_and_records_validation():
    ids = np.tile(np.arange(V), 120)  # a fully predictable stream
    model = _model()
    val = text_stream(ids[:200], 2, 50)
    called = []
    hist = train_lm(model, text_stream(ids, 8, 16), steps=60, lr=2e-2, val=val, eval_every=20, progress=False,
                    device="cpu", callback=lambda step, m: called.append((step, m is model)))
    assert [s for s, _ in hist.val] == [20, 40, 60]
    assert called == [(20, True), (40, True), (60, True)]
    assert hist.val[-1][1].nats < 0.1 < math.log(V) and hist.val[-1][1].accuracy > 0.99


def test_time_budget_stops_the_run():
    hist = train_lm(_model(), text_stream(_ids(), 4, 8), time_budget=0.3, progress=False, device="cpu")
    assert 0 < hist.steps and hist.seconds < 3.0


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="steps.*time_budget"):
        train_lm(_model(), text_stream(_ids(), 4, 8), progress=False)
    with pytest.raises(ValueError, match="too short"):
        text_stream(_ids(5), 4, 8)
    with pytest.raises(ValueError, match="optimizer"):
        train_lm(_model(), text_stream(_ids(), 4, 8), steps=1, optimizer="rmsprop", progress=False, device="cpu")


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_update_cost_memory_grows_linearly_with_k(cell):
    model = _model(cell)
    x = torch.as_tensor(_ids(8 * 65).reshape(8, 65))
    sizes = [update_cost(model, x[:, :k], x[:, 1 : k + 1], repeats=1).saved_bytes for k in (8, 16, 32, 64)]
    steps = np.diff(sizes) / np.array([8, 16, 32])  # bytes per extra step of backpropagation
    # exactly linear for nn.RNN and nn.GRU; the LSTM's CPU kernel keeps a workspace allocated in blocks
    np.testing.assert_allclose(steps, steps[-1], rtol=0.0 if cell != "lstm" else 0.15)
    assert steps[-1] >= 8 * 12 * 4  # at least the hidden states of one step (N=8, H=12, float32)
    assert update_cost(model, x[:, :8], x[:, 1:9], repeats=2).seconds > 0


def test_recall_is_learned_within_the_truncation_and_ignore_targets_are_skipped():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = CharLM(2, hidden=16, cell="lstm", embed_dim=4)
    # delay 2 inside chunks of 8: learnable; the first 2 steps of every pass have no target (IGNORE)
    train_lm(model, lambda: recall_chunks(rng, 16, 64, 2, 8), steps=150, lr=1e-2, progress=False, device="cpu")
    ev = evaluate(model, recall_chunks(np.random.default_rng(1), 16, 100, 2, 100))
    assert ev.accuracy > 0.95 and ev.count == 16 * 98


def test_lr_schedule_is_applied_at_every_update():
    """SGD without clipping: every update's step size is lr * lr_factor(step / steps), as in a loop written out."""
    from rnnbook.tbptt import detach_state as cut

    ids, steps, lr = _ids(400), 8, 0.5
    a, b = _model(), _model()
    hist = train_lm(a, text_stream(ids, 4, 16), steps, lr=lr, optimizer="sgd", clip_norm=None, schedule="linear",
                    warmup=0.25, progress=False, device="cpu")
    opt, state, losses = torch.optim.SGD(b.parameters(), lr=lr), None, []
    chunks = list(tbptt_batches(ids, 4, 16))
    for step in range(steps):
        x, y = chunks[step % len(chunks)]
        state = None if step % len(chunks) == 0 else cut(state)
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(step / steps, "linear", 0.25)
        logits, state = b(torch.as_tensor(x), state)
        loss = F.cross_entropy(logits.reshape(-1, V), torch.as_tensor(y).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(hist.loss, losses, rtol=1e-6)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_with_a_time_budget_the_schedule_follows_the_clock(monkeypatch):
    import rnnbook.train as train

    seen = []
    monkeypatch.setattr(train, "lr_factor", lambda p, s, w, f: seen.append(p) or lr_factor(p, s, w, f))
    hist = train_lm(_model(), text_stream(_ids(), 4, 8), time_budget=0.4, schedule="linear", progress=False,
                    device="cpu")
    assert len(seen) >= hist.steps and seen == sorted(seen) and 0.0 <= seen[0] < 0.3 and 0.6 < seen[-1] <= 1.05
    seen.clear()
    hist = train_lm(_model(), text_stream(_ids(), 4, 8), steps=4, time_budget=100.0, progress=False, device="cpu")
    assert hist.steps == 4 and seen == pytest.approx([0.0, 0.25, 0.5, 0.75], abs=1e-3)  # steps end first


def test_checkpoints_are_written_every_checkpoint_every_updates(tmp_path, monkeypatch):
    import rnnbook.tbptt as tbptt

    saved = []
    real = tbptt.save_checkpoint
    monkeypatch.setattr(tbptt, "save_checkpoint", lambda path, m, o, step, state, **kw: saved.append(step) or
                        real(path, m, o, step, state, **kw))
    train_lm(_model(), text_stream(_ids(), 4, 8), steps=7, checkpoint=tmp_path / "c.pt", checkpoint_every=3,
             progress=False, device="cpu")
    assert saved == [3, 6, 7]
    saved.clear()
    train_lm(_model(), text_stream(_ids(), 4, 8), steps=2, progress=False, device="cpu")
    assert saved == []  # no checkpoint asked for, none written


def test_an_empty_stream_is_named():
    with pytest.raises(ValueError, match="the stream yielded no chunks"):
        train_lm(_model(), lambda: iter([]), steps=2, progress=False, device="cpu")


def test_evaluate_counts_only_scored_targets_and_refuses_none():
    model = _model()
    x = torch.as_tensor(_ids(40).reshape(4, 10))
    y = torch.full((4, 10), IGNORE)
    y[:, -1] = torch.as_tensor(_ids(4, seed=1))
    ev = evaluate(model, [(x, y)])
    assert ev.count == 4 and 0.0 <= ev.accuracy <= 1.0
    with torch.no_grad():
        want = F.cross_entropy(model(x)[0][:, -1], y[:, -1]).item()
    assert ev.nats == pytest.approx(want, rel=1e-5) and ev.bits == pytest.approx(want / math.log(2))
    assert ev.perplexity == pytest.approx(math.exp(want)) and f"{ev.nats:.4f} nats/char" in str(ev)
    with pytest.raises(ValueError, match="no scored targets"):
        evaluate(model, [(x, torch.full((4, 10), IGNORE))])


def test_progress_bar_is_shown_by_default_with_the_smoothed_loss(capsys):
    """A chapter calls train_lm without progress=...: the reader sees a bar and, after 10 updates, a smoothed loss,
    an average of the losses so far, so it lies between the smallest and the largest of them."""
    hist = train_lm(_model(), text_stream(_ids(), 4, 8), steps=10, desc="toy run", device="cpu")
    shown = capsys.readouterr().err
    assert "toy run" in shown and "10/10" in shown
    smoothed = [float(v) for v in re.findall(r"loss=([0-9.]+)", shown)]
    assert smoothed, f"no smoothed loss in the progress bar: {shown!r}"
    assert min(hist.loss) - 1e-3 <= smoothed[-1] <= max(hist.loss) + 1e-3


def test_update_cost_times_repeats_forward_and_backward_passes_and_leaves_no_gradients():
    """update_cost measures an update (forward and backward), `repeats` times, and leaves the model's gradients
    as None, so that a later optimizer step does not apply the measurement's gradients."""
    model = _model()
    x = torch.as_tensor(_ids(4 * 17).reshape(4, 17))
    forwards, backwards = [], []
    model.register_forward_hook(lambda module, inputs, output: forwards.append(1))
    next(model.parameters()).register_hook(lambda grad: backwards.append(1))
    update_cost(model, x[:, :16], x[:, 1:], repeats=3)
    assert len(forwards) == 3 and len(backwards) == 3
    assert all(p.grad is None for p in model.parameters())


IDS = np.random.default_rng(0).integers(0, 7, 600)


def run(m, steps, **kw):
    return train_lm(m, kw.pop("stream", text_stream(IDS, 4, 8)), steps, progress=False, device="cpu", **kw)


def test_resume_restores_the_random_state_for_dropout(tmp_path):
    straight = run(model(dropout=0.3), 8).loss
    path = tmp_path / "c.pt"
    run(model(dropout=0.3), 3, checkpoint=path)
    torch.manual_seed(999)  # whatever the generator says now, the checkpoint's state wins
    resumed = run(model(seed=5, dropout=0.3), 8, checkpoint=path, resume=True).loss
    np.testing.assert_allclose(resumed, straight[3:], rtol=1e-6)


def test_resume_must_be_true_false_or_auto(tmp_path):
    with pytest.raises(ValueError, match="resume must be True, False or 'auto', got 'yes'"):
        run(model(), 2, checkpoint=tmp_path / "c.pt", resume="yes")


def test_modes_around_callbacks_and_at_the_end():
    m = model()
    modes = []

    def callback(step, mm):
        modes.append(mm.training)
        mm.eval()  # a callback that samples leaves the model in eval mode

    run(m, 6, eval_every=2, callback=callback, val=text_stream(IDS[:200], 2, 8))
    assert modes == [True, True, True]  # evaluate handed it back in train mode
    assert not m.training  # handed back in eval mode
    m.train()
    evaluate(m, text_stream(IDS[:200], 2, 8))
    assert m.training  # evaluate restores the mode it found


def test_training_after_a_callback_is_in_train_mode():
    m = CharLM(7, hidden=12, cell="gru", dropout=0.5)
    seen = []
    real = m.forward
    m.forward = lambda x, state=None: seen.append(m.training) or real(x, state)
    run(m, 4, eval_every=2, callback=lambda step, mm: mm.eval())
    assert seen[:4] == [True, True, True, True]


def test_time_and_volume_are_recorded():
    hist = train_lm(model(), text_stream(IDS, 4, 8), time_budget=0.3, progress=False, device="cpu")
    assert 0.3 <= hist.seconds < 5.0 and hist.steps == len(hist.loss)
    assert 28 * hist.steps <= hist.tokens <= 32 * hist.steps  # 4 rows x 8 steps, the last chunk of a pass shorter


def test_evaluate_and_gradient_mask_check_their_arguments():
    with pytest.raises(ValueError, match="device='tpu' is not a device"):
        evaluate(model(), text_stream(IDS[:200], 2, 8), device="tpu")
    for T, k in ((0, 1), (3, 0)):
        with pytest.raises(ValueError, match=f"need T >= 1 and k >= 1, got T={T}, k={k}"):
            gradient_mask(T, k)


# --- bad input ------------------------------------------------------------------------------------------------


SMALL_IDS = np.random.default_rng(0).integers(0, 20, 3000)


def run_small(model=None, steps=5, **kw):
    kw = {"lr": 3e-3, "device": "cpu", "progress": False, **kw}
    return train_lm(model or small_lm(), kw.pop("stream", text_stream(SMALL_IDS, 4, 16)), steps, **kw)


# ---- train_lm: a loss far above its start for many updates is a divergence, not a result ------------------------

@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_1_train_lm_at_lr_1e3_raises_divergence(optimizer):
    with pytest.raises(DivergenceError) as err:
        run_small(steps=200, lr=1e3, optimizer=optimizer)
    assert "lr=1000.0" in str(err.value) and "clip_norm=" in str(err.value)


def test_1_a_healthy_run_is_not_stopped():
    hist = run_small(steps=60, lr=1e-2)
    assert hist.steps == 60 and hist.loss[-1] < hist.loss[0]


@pytest.mark.parametrize("budget", [0, -1.0])
def test_train_lm_refuses_a_time_budget_of_zero(budget):
    with pytest.raises(ValueError, match="time_budget must be a number of seconds > 0"):
        run_small(steps=None, time_budget=budget)


def test_train_lm_needs_steps_or_a_time_budget():
    with pytest.raises(ValueError, match="give steps .* time_budget"):
        run_small(steps=None)


@pytest.mark.parametrize("kw, name", [({"lr": 0.0}, "lr"), ({"lr": float("nan")}, "lr"), ({"warmup": 1.0}, "warmup"),
                                      ({"eval_every": 0}, "eval_every"), ({"checkpoint_every": 0}, "checkpoint_every"),
                                      ({"steps": 0}, "steps")])
def test_train_lm_names_a_bad_argument(kw, name):
    with pytest.raises(ValueError, match=f"{name} must be"):
        run_small(**{"steps": 5, **kw})


def test_train_lm_refuses_ids_instead_of_a_stream():
    with pytest.raises(TypeError, match=r"stream must be a function .* text_stream\(ids"):
        run_small(stream=SMALL_IDS)


def test_resume_with_another_optimizer_names_it(tmp_path):
    path = tmp_path / "c.pt"
    run_small(steps=3, checkpoint=path, optimizer="sgd")
    with pytest.raises(CheckpointError, match="trained with the optimizer SGD, but optimizer is a Adam.*optimizer='sgd'"):
        run_small(steps=6, checkpoint=path, resume=True, optimizer="adam")


def test_resume_with_another_batch_size_names_it(tmp_path):
    path = tmp_path / "c.pt"
    run_small(steps=3, checkpoint=path)
    with pytest.raises(CheckpointError, match="carried the state of 4 rows, but stream gives chunks of 8"):
        run_small(steps=6, checkpoint=path, resume=True, stream=text_stream(SMALL_IDS, 8, 16))


def test_resume_true_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume=True, but there is no checkpoint.*resume='auto'"):
        run_small(steps=3, checkpoint=tmp_path / "none.pt", resume=True)
    with pytest.raises(ValueError, match="resume needs checkpoint="):
        run_small(steps=3, resume=True)


def test_resume_auto_starts_afresh_then_continues(tmp_path):
    path = tmp_path / "c.pt"
    first = run_small(steps=3, checkpoint=path, resume="auto")
    again = run_small(steps=5, checkpoint=path, resume="auto")
    assert first.steps == 3 and again.steps == 5 and len(again.loss) == 2  # continued from step 3


def test_checkpoint_records_what_it_needs_to_be_checked(tmp_path):
    from rnnbook import __version__

    path = tmp_path / "c.pt"
    run_small(steps=2, checkpoint=path)
    about = torch.load(path, weights_only=True)["rnnbook"]
    assert about == {"model": "CharLM", "sizes": {"vocab_size": 20, "hidden": 16, "layers": 1, "cell": "lstm"},
                     "optimizer": "Adam", "vocab_size": 20, "rnnbook": __version__, "batch_size": 4}


def test_explicit_device_argument_is_validated():
    with pytest.raises(ValueError, match="device='tpu' is not a device"):
        run_small(steps=2, device="tpu")
    with pytest.raises(ValueError, match="prefer='xla'"):
        get_device("xla")
