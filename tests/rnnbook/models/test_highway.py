"""Tests of ``rnnbook.models.highway``: deep feed-forward stacks for the gradient-flow analogy: plain, residual and
highway layers."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models.highway import Highway

F64 = torch.float64


sig, tanh = torch.sigmoid, torch.tanh


def test_highway_layer_carries_or_transforms():
    torch.manual_seed(5)
    x = torch.randn(3, 6, dtype=F64)
    carry = Highway(6, gate_bias=-60.0).double()
    torch.testing.assert_close(carry(x), x, rtol=0, atol=1e-12)  # g = 0: y = x
    transform = Highway(6, gate_bias=60.0).double()
    torch.testing.assert_close(transform(x), tanh(transform.transform(x)), rtol=0, atol=1e-12)  # g = 1: y = H(x)
    layer = Highway(6).double()
    g = sig(layer.gate(x))
    torch.testing.assert_close(layer(x), g * tanh(layer.transform(x)) + (1 - g) * x, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="Highway"):
        layer(torch.zeros(2, 5, dtype=F64))
