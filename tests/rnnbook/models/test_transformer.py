"""Tests of ``rnnbook.models.transformer``: a small causal Transformer character model: attention instead of recurrence
(Vaswani et al.)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook.models.transformer import TinyTransformer, causal_attention, causal_mask
from rnnbook.tbptt import evaluate, text_stream, train_lm, update_cost

V = 7


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return TinyTransformer(V, d_model=16, layers=2, heads=2, block_size=12, **kw).eval()


def test_changing_a_future_token_does_not_change_earlier_outputs():
    m = _model()
    x = torch.randint(0, V, (3, 10), generator=torch.Generator().manual_seed(0))
    base, _ = m(x)
    for t in range(10):
        y = x.clone()
        y[:, t] = (y[:, t] + 1) % V
        out, _ = m(y)
        torch.testing.assert_close(out[:, :t], base[:, :t], rtol=0, atol=1e-6)
        assert not torch.allclose(out[:, t:], base[:, t:])  # ... and it does change position t and later


def test_attention_matches_torch_reference_and_rows_sum_to_one():
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 5, 4, generator=gen) for _ in range(3))
    out, w = causal_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5))
    assert torch.all(w.triu(1) == 0)


def test_causal_mask_small_case():
    np.testing.assert_array_equal(causal_mask(3).numpy(), np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], bool))
    with pytest.raises(ValueError):
        causal_mask(0)


def test_shapes_and_block_size_error():
    m = _model()
    logits, state = m(torch.zeros(2, 12, dtype=torch.long))
    assert logits.shape == (2, 12, V) and state is None
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 13, dtype=torch.long))
    with pytest.raises(ValueError):
        TinyTransformer(V, d_model=10, heads=3)


def test_learns_a_periodic_sequence_with_train_lm():
    ids = np.tile(np.arange(V), 300)
    m = _model()
    train_lm(m, text_stream(ids, 8, 12), 150, lr=3e-3, progress=False, device="cpu")
    from rnnbook.data import tbptt_batches

    assert evaluate(m, tbptt_batches(ids, 4, 12), carry_state=False).accuracy > 0.8  # only the first char is a guess


def test_timing_an_update_does_not_change_the_model():
    m = _model()
    before = [p.clone() for p in m.parameters()]
    x = torch.randint(0, V, (2, 8))
    cost = update_cost(m, x, x, repeats=2)
    assert cost.seconds > 0 and cost.saved_bytes > 0
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))
    assert all(p.grad is None for p in m.parameters())


def test_sample_is_reproducible():
    from rnnbook.data import Vocab

    vocab = Vocab.from_text("abcdefg")
    m = TinyTransformer(len(vocab), d_model=16, layers=1, heads=2, block_size=8)
    a, b = m.sample(vocab, "abc", 20, seed=3), m.sample(vocab, "abc", 20, seed=3)
    assert a == b and len(a) == 23
