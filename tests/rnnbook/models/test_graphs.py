"""Tests of ``rnnbook.models.graphs``: the computational graphs of the lecture as small PyTorch models, each around one
Elman RNN (``nn.RNN``)."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models import (
    EncoderDecoder,
    ManyToMany,
    ManyToOne,
    OneToMany,
    count_parameters,
)


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
