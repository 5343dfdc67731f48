"""Tests of ``rnnbook.train``: the training loop: updates of a loss a caller defines, with a learning-rate schedule,
clipping, a divergence check, a progress bar and optional checkpoints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnbook
import rnnbook.train as train
from rnnbook.data import sequences
from rnnbook.models import ManyToOne
from rnnbook.train import (
    DivergenceError,
    DivergenceWatch,
    History,
    clip_gradients,
    fit,
    lr_factor,
)
from rnnbook.train.checkpoint import load_checkpoint


def test_fit_learns_majority_and_is_seeded():
    def run():
        rnnbook.seed_everything(0)
        rng = np.random.default_rng(0)
        model = ManyToOne(2, 2, hidden=16)

        def loss(step):
            x, y = sequences.majority(rng, 32, T=5)
            return F.cross_entropy(model(torch.as_tensor(x)), torch.as_tensor(y))

        return fit(model, loss, steps=150, lr=1e-2, progress=False)

    first, second = run(), run()
    assert first.loss == second.loss  # bit-for-bit repeatable on the CPU
    assert first.final < 0.5 * first.loss[0]


def test_fit_stops_a_diverging_run_and_names_the_knobs():
    model = torch.nn.Linear(1, 1)
    with pytest.raises(DivergenceError, match="learning rate") as err:
        fit(model, lambda step: model(torch.tensor([[float("nan")]])).sum(), steps=3, progress=False)
    assert "clip" in str(err.value)


def test_clipping_by_value_and_by_norm():
    model = torch.nn.Linear(3, 1, bias=False)
    model.weight.grad = torch.tensor([[30.0, -40.0, 0.0]])
    assert math.isclose(clip_gradients(model, clip_norm=None, clip_value=5.0), 50.0)
    assert model.weight.grad.tolist() == [[5.0, -5.0, 0.0]]
    model.weight.grad = torch.tensor([[30.0, -40.0, 0.0]])
    clip_gradients(model, clip_norm=1.0)
    torch.testing.assert_close(model.weight.grad, torch.tensor([[0.6, -0.8, 0.0]]))


def test_history_final_is_the_tail_mean():
    h = History(loss=[10.0] * 90 + [1.0] * 10)
    assert h.final == 1.0
    with pytest.raises(ValueError):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), steps=0)


def test_lr_schedules():
    assert lr_factor(0.5) == 1.0
    assert lr_factor(0.0, "cosine") == 1.0 and lr_factor(1.0, "cosine") == pytest.approx(0.0, abs=1e-12)
    assert lr_factor(0.5, "linear") == pytest.approx(0.5)
    assert lr_factor(0.05, "linear", warmup=0.1) < 0.6
    with pytest.raises(ValueError, match="schedule"):
        lr_factor(0.1, "step")


def test_fit_still_works():
    model = torch.nn.Linear(2, 1)
    x, y = torch.randn(32, 2), torch.randn(32, 1)
    hist = fit(model, lambda step: F.mse_loss(model(x), y), steps=50, lr=0.05, progress=False)
    assert hist.loss[-1] < hist.loss[0]


def test_lr_factor_values():
    assert lr_factor(0.5, "linear", warmup=0.2) == pytest.approx(1 - 0.3 / 0.8)  # decay over what follows warm-up
    assert lr_factor(0.6, "cosine", warmup=0.2) == pytest.approx(0.5)
    assert lr_factor(0.1, "linear", warmup=0.2) == pytest.approx((0.1 + 1e-3) / 0.2)  # warm-up: linear from ~0
    assert lr_factor(0.0, "cosine", warmup=0.5) == pytest.approx(1e-3 / 0.5)
    assert lr_factor(0.2, "linear", warmup=0.2) == pytest.approx(1.0)  # warm-up ends at full strength
    assert lr_factor(0.3, "constant", warmup=0.2) == 1.0
    assert lr_factor(-0.5, "linear") == 1.0 and lr_factor(1.5, "linear") == 0.0  # progress is clamped to [0, 1]
    assert lr_factor(0.25, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def _ramp(steps: int, **kw) -> list[float]:
    """SGD on loss = w (gradient 1, no clipping): each update moves w by exactly the learning rate it ran at."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    seen = []

    def step_loss(step):
        seen.append(float(model.weight.detach()))
        return model.weight.sum()

    fit(model, step_loss, steps, lr=0.1, optimizer="sgd", clip_norm=None, progress=False, **kw)
    seen.append(float(model.weight.detach()))
    return list(-np.diff(seen))


def test_fit_runs_every_update_at_its_scheduled_learning_rate():
    steps = 10
    cosine = _ramp(steps, schedule="cosine", final_lr=0.05)
    by_hand = [0.1 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * s / steps))) for s in range(steps)]
    np.testing.assert_allclose(cosine, by_hand, rtol=1e-5)
    linear = _ramp(steps, schedule="linear", warmup=0.2)
    by_hand = [0.1 * ((s / steps + 1e-3) / 0.2 if s / steps < 0.2 else 1 - (s / steps - 0.2) / 0.8)
               for s in range(steps)]
    np.testing.assert_allclose(linear, by_hand, rtol=1e-5)
    np.testing.assert_allclose(_ramp(steps), [0.1] * steps, rtol=1e-6)  # constant: the default


def test_lr_factor_floor():
    assert lr_factor(1.0, "cosine", floor=0.05) == pytest.approx(0.05)
    assert lr_factor(0.0, "linear", floor=0.3) == 1.0 and lr_factor(0.5, "linear", floor=0.5) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="floor"):
        lr_factor(0.5, "cosine", floor=1.5)
    with pytest.raises(ValueError, match="final_lr"):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), 2, final_lr=-0.1, progress=False)
    with pytest.raises(ValueError, match="schedule"):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), 2, schedule="step", progress=False)


def _climbing(model):
    """A loss that starts at 1 and jumps to 100: finite, but far above three times its start."""
    return lambda step: model.weight.sum() * 0 + (1.0 if step == 0 else 100.0)


def test_fit_watch_stops_a_loss_that_stays_far_above_its_start():
    model = torch.nn.Linear(1, 1)
    with pytest.raises(DivergenceError, match=r"stayed above 4 .* for 3 updates") as err:
        fit(model, _climbing(model), 10, watch=DivergenceWatch(patience=3), progress=False)
    assert "learning rate" in str(err.value) and "at step 3" in str(err.value)
    assert len(fit(model, _climbing(model), 10, progress=False).loss) == 10  # the watch is off by default


def test_fit_time_budget_and_on_update():
    ticks = iter(range(100))
    done = []
    hist = fit(torch.nn.Linear(1, 1), lambda s: torch.nn.Linear(1, 1).weight.sum(), time_budget=3.5,
               clock=lambda: float(next(ticks)), on_update=lambda step, h: done.append((step, len(h.loss))),
               progress=False)
    assert len(hist.loss) == 4 and done == [(1, 1), (2, 2), (3, 3), (4, 4)]  # clock 0, 1, 2, 3 < 3.5; 4 stops it
    with pytest.raises(ValueError, match="give steps"):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), progress=False)


def test_fit_writes_checkpoints(tmp_path, monkeypatch):
    saved = []
    real = train.save_checkpoint
    monkeypatch.setattr(train, "save_checkpoint", lambda path, m, o, step: saved.append(step) or real(path, m, o, step))
    model = torch.nn.Linear(2, 1)
    fit(model, lambda s: model(torch.ones(1, 2)).sum() ** 2, 5, checkpoint=tmp_path / "c.pt", checkpoint_every=2,
        progress=False)
    assert saved == [2, 4, 5]
    fresh = torch.nn.Linear(2, 1)
    assert load_checkpoint(tmp_path / "c.pt", fresh)["step"] == 5
    torch.testing.assert_close(fresh.weight, model.weight)


# --- bad input ------------------------------------------------------------------------------------------------


def test_1_divergence_watch_ignores_a_spike_but_not_a_plateau():
    watch = DivergenceWatch(factor=3.0, margin=1.0, patience=5)
    watch(4.0, 0, 0.1)  # the first loss sets the line at 3 * 4 + 1 = 13
    for step in range(1, 5):
        watch(100.0, step, 0.1)  # four updates above it: not yet
    watch(12.9, 5, 0.1)  # back under the line: the count starts again
    for step in range(6, 10):
        watch(13.5, step, 0.1)
    with pytest.raises(DivergenceError, match=r"above 13 .*lr=0.1"):
        watch(13.5, 10, 0.1)


def test_fit_names_a_step_loss_that_returns_a_float():
    model = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"step_loss\(step\) .* must be a scalar tensor.* got a float"):
        fit(model, lambda step: float(model(torch.ones(1, 2)).sum().detach()), steps=3, progress=False)
