"""Property-based bad input for the numpy layers (hypothesis strategies and the check the tests of rnn.py and lstm.py
share): a layer either computes in floating point what it computes on float64 copies of its inputs, or raises a
ValueError or TypeError that names the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st


def _int_inputs(G=1):
    rng = np.random.default_rng(0)
    N, T, D, H = 2, 3, 4, 3
    return (rng.integers(-2, 3, (N, T, D)), rng.integers(-1, 2, (N, H)), rng.integers(-1, 2, (D, G * H)),
            rng.integers(-1, 2, (H, G * H)), rng.integers(-1, 2, (G * H,)))


DTYPES = [np.float64, np.float32, np.int64, np.int32, np.bool_, np.complex128]


GOOD = (np.float64, np.float32, np.int64, np.int32)


SETTINGS = settings(max_examples=60, deadline=None)


def _layer_args(draw, names, shapes):
    """Arrays of the given shapes; maybe one of them gets a wrong size or a wrong dtype."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    dtypes = [draw(st.sampled_from(DTYPES)) if draw(st.booleans()) else np.float64 for _ in names]
    bad_shape = draw(st.sampled_from([None, *names]))
    arrays = []
    for name, shape, dtype in zip(names, shapes, dtypes):
        if name == bad_shape:
            shape = draw(st.sampled_from([shape[:-1] + (shape[-1] + 1,), shape + (1,)]))
        a = rng.integers(-2, 3, shape) if np.issubdtype(dtype, np.integer) else rng.standard_normal(shape) * 0.5
        arrays.append(np.asarray(a).astype(dtype))
    return arrays, bad_shape, [n for n, d in zip(names, dtypes) if d not in GOOD], names


@st.composite
def rnn_case(draw, G=1, seq=True):
    N, T, D, H = (draw(st.integers(1, 3)) for _ in range(4))
    names = ["x", "h0" if seq else "prev_h", "Wx", "Wh", "b"]
    shapes = [(N, T, D) if seq else (N, D), (N, H), (D, G * H), (H, G * H), (G * H,)]
    return _layer_args(draw, names, shapes)


def _check(fn, case, where):
    arrays, bad_shape, bad_dtype, names = case
    if bad_shape is None and not bad_dtype:
        out = fn(*arrays)
        want = fn(*(a.astype(np.float64) for a in arrays))
        assert out[0].dtype.kind == "f"
        np.testing.assert_allclose(out[0], want[0], rtol=1e-4, atol=1e-5)
        return
    with pytest.raises((ValueError, TypeError)) as err:
        fn(*arrays)
    message = str(err.value)
    assert message.startswith(f"{where}:")
    # the first argument found wrong is named; a wrong size may be found on the argument it disagrees with
    # (x with one D too many is reported as Wx not matching x), so: the culprit, or another argument by name
    said = [n for n in names if f"{where}: {n} " in message]
    assert said, message
    if bad_shape and not bad_dtype:
        assert "shape" in message, message
    if bad_dtype and not bad_shape:
        assert any(f"{n} must hold real numbers" in message for n in bad_dtype), message
