"""Tests of ``rnnbook.models.birnn``: a recurrent tagger, unidirectional or bidirectional: one tag per input step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook.data.sequences import next_rises
from rnnbook.models.birnn import RecurrentTagger
from rnnbook.train import fit


def test_tagger_shapes_causality_and_bad_input():
    torch.manual_seed(0)
    uni, bi = RecurrentTagger(4, 2, 8), RecurrentTagger(4, 2, 8, bidirectional=True)
    x = torch.randint(0, 4, (3, 7))
    assert uni(x).shape == bi(x).shape == (3, 7, 2)
    assert bi.states(x).shape == (3, 7, 16)
    x2 = x.clone()
    x2[:, 5:] = (x2[:, 5:] + 1) % 4  # change the future of step 4
    torch.testing.assert_close(uni(x)[:, :5], uni(x2)[:, :5])  # a causal model cannot see it
    assert not torch.allclose(bi(x)[:, :5], bi(x2)[:, :5])  # a bidirectional one can
    with pytest.raises(ValueError, match="hidden"):
        RecurrentTagger(4, 2, 0)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        uni(torch.zeros(3, 7, 4, dtype=torch.long))


def test_backward_states_are_the_reversed_sequence_read_forward():
    torch.manual_seed(1)
    bi = RecurrentTagger(4, 2, 5, bidirectional=True)
    x = torch.randint(0, 4, (2, 6))
    h_bwd = bi.states(x)[..., 5:]
    ref, _ = bi.backward_rnn(bi.embed(x.flip(1)))
    torch.testing.assert_close(h_bwd, ref.flip(1))


def test_bidirectional_tagger_beats_the_causal_bound():
    def train(bidirectional, hidden):
        torch.manual_seed(0)
        data = np.random.default_rng(0)
        model = RecurrentTagger(4, 2, hidden, bidirectional=bidirectional)

        def step_loss(step):
            x, y = next_rises(data, 64, 12, 4)
            return F.cross_entropy(model(torch.as_tensor(x)).flatten(0, 1), torch.as_tensor(y).flatten())

        fit(model, step_loss, 150, progress=False)
        x, y = next_rises(np.random.default_rng(5), 500, 12, 4)
        with torch.no_grad():
            return (model(torch.as_tensor(x)).argmax(-1).numpy()[:, :-1] == y[:, :-1]).mean()

    uni, bi = train(False, 23), train(True, 16)
    assert 0.7 < uni < 0.77 and bi > 0.95
