"""Numerical gradients by centred differences, and the relative error used to compare them (as in CS231n)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), element-wise; ~1e-7 or less means the two agree."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, {x.shape} vs {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5,
                            verbose: bool = False) -> np.ndarray:
    """d f(x) / dx for a scalar f, by (f(x + h) - f(x - h)) / 2h, one entry at a time; x is perturbed in place.

    ``verbose=True`` prints each entry's index and slope as it goes (CS231n's ``verbose``, which its cells pass)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of sum(f(x) * df) with respect to x, for an array-valued f and upstream df."""
    return eval_numerical_gradient(lambda z: float(np.sum(f(z) * df)), x, h)
