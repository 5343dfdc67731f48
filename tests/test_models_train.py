"""The computational-graph models and the training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnbook
from rnnbook.data import sequences
from rnnbook.models import EncoderDecoder, ManyToMany, ManyToOne, OneToMany, count_parameters
from rnnbook.train import DivergenceError, History, clip_gradients, fit


def test_output_shapes_and_shared_parameters():
    x = torch.zeros(2, 7, dtype=torch.long)
    assert ManyToOne(3, 2)(x).shape == (2, 2)
    m2m = ManyToMany(3, 4)
    n = count_parameters(m2m)
    assert m2m(x).shape == (2, 7, 4) and m2m(torch.zeros(2, 70, dtype=torch.long)).shape == (2, 70, 4)
    assert count_parameters(m2m) == n
    o2m = OneToMany(5, 6)
    assert o2m(torch.zeros(2, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long)).shape == (2, 4, 6)
    assert o2m.generate(torch.zeros(2, dtype=torch.long), 3).shape == (2, 3)
    s2s = EncoderDecoder(5)
    assert s2s(x.clamp(max=4), torch.zeros(2, 3, dtype=torch.long)).shape == (2, 3, 5)


def test_inputs_must_be_integer_symbols():
    with pytest.raises(ValueError, match=r"integer symbols of shape \(N, T\)"):
        ManyToOne(3, 2)(torch.zeros(2, 7))
    with pytest.raises(ValueError, match=r"\(N,\)"):
        OneToMany(3, 3).generate(torch.zeros(2, 2, dtype=torch.long), 3)


def test_one_to_many_teacher_forcing_shifts_the_targets():
    """Output t must not see target t: changing the last target leaves every output unchanged."""
    torch.manual_seed(0)
    model = OneToMany(4, 5)
    v, y = torch.tensor([1, 2]), torch.tensor([[0, 1, 2, 3], [4, 3, 2, 1]])
    y2 = y.clone()
    y2[:, -1] = 0
    torch.testing.assert_close(model(v, y), model(v, y2))


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
