"""What every exercise check shares: calling a student's function safely, and comparing arrays with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def call(name: str, fn: Callable, *args: Any) -> tuple[bool, Any]:
    """Call ``fn(*args)``; on NotImplementedError print a reminder, on another error print it; never raise."""
    try:
        return True, fn(*args)
    except NotImplementedError:
        print(f"{name}: not implemented yet. Fill in the cell above, run it, then run this check again.")
    except Exception as err:  # a student's bug: say what it was, do not crash the notebook
        print(f"{name}: your function raised {type(err).__name__}: {err}")
    return False, None


def returns_tuple(name: str, out: Any, n: int, what: str) -> bool:
    """True when ``out`` is a tuple of ``n`` items; else print ``what`` the function should return."""
    if isinstance(out, tuple) and len(out) == n:
        return True
    print(f"{name}: return {what}, got {type(out).__name__}" + (f" of {len(out)}." if isinstance(out, tuple) else "."))
    return False


def as_number(name: str, got: Any, what: str = "one number") -> float | None:
    """``got`` as a float; or None, after printing what was expected (e.g. a student returned an array)."""
    for convert in (float, lambda v: float(np.asarray(v))):
        try:
            return convert(got)
        except (TypeError, ValueError):
            continue
    print(f"{name}: return {what}, got {type(got).__name__}.")
    return None


def compare(name: str, what: str, got: Any, want: np.ndarray, hints: dict[str, np.ndarray] | None = None) -> bool:
    """True when ``got`` matches ``want``; else print the shape or the largest difference, and any matching hint."""
    got = np.asarray(got)
    if got.shape != want.shape:
        print(f"{name}: {what} has shape {got.shape}, expected {want.shape}.")
        return False
    if not np.all(np.isfinite(got)):
        print(f"{name}: {what} contains NaN or inf.")
        return False
    if np.allclose(got, want, rtol=1e-6, atol=1e-8):
        return True
    where = np.unravel_index(np.argmax(np.abs(got - want)), want.shape)
    print(f"{name}: {what} is wrong; the largest difference is at index {tuple(int(i) for i in where)}: "
          f"got {got[where]:.6f}, expected {want[where]:.6f}.")
    for hint, value in (hints or {}).items():
        if value.shape == got.shape and np.allclose(got, value, rtol=1e-6, atol=1e-8):
            print(f"  hint: your output equals {hint}.")
    return False
