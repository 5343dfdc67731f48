"""Tests of ``rnnbook.numpy_nn.gradcheck``: numerical gradients by centred differences, and the relative error used to
compare them (as in CS231n)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.numpy_nn import (
    eval_numerical_gradient,
    rel_error,
)


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(eval_numerical_gradient(lambda z: float(np.sum(z**3)), x), 3 * x**2, rtol=1e-6)
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    with pytest.raises(ValueError):
        rel_error(np.ones(3), np.ones(4))
