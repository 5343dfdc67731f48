"""What every exercise check shares: calling a student's function safely, and comparing arrays with a message."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np


def private_copy(obj: Any) -> Any:
    """A copy of ``obj`` that a student's function may change in place without changing the check's own arrays:
    numpy arrays and plain tensors are copied, inside tuples, lists, dicts and dataclasses (a cache, ``Params``).

    Tensors attached to a graph and other objects (a module the exercise must change) are passed as they are.
    """
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "clone"):
        return obj.clone() if (not obj.requires_grad and obj.grad_fn is None) else obj
    if isinstance(obj, tuple):
        return tuple(private_copy(a) for a in obj)
    if isinstance(obj, list):
        return [private_copy(a) for a in obj]
    if isinstance(obj, dict):
        return {k: private_copy(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: private_copy(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


def call(name: str, fn: Callable, *args: Any) -> tuple[bool, Any]:
    """Call ``fn`` on private copies of ``args`` (``private_copy``: an answer that changes its inputs in place
    changes neither the check's expected answer nor the next case); on NotImplementedError print a reminder, on
    another error print it; never raise."""
    try:
        return True, fn(*private_copy(args))
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
    """``got`` as a float when it is a real number (int, float, numpy scalar, 0-d numeric array or tensor); else
    None, after printing what was expected. A string, a bool, a complex number or a longer array is not a number."""
    value = got
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    shape = f" of shape {np.shape(got)}" if isinstance(got, np.ndarray) or hasattr(got, "shape") else ""
    shown = f" {got!r}" if isinstance(got, (str, bytes, bool, np.bool_, complex)) else ""
    print(f"{name}: return {what}, got {type(got).__name__}{shape}{shown}.")
    return None


def as_mask(name: str, got: Any, shape: tuple[int, ...], what: str = "the mask") -> np.ndarray | None:
    """``got`` as a boolean array of ``shape`` when it holds booleans or the integers 0 and 1; else None, after
    printing what was returned (a mask of 0.5s is not a mask)."""
    try:
        arr = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got)
    except (ValueError, TypeError) as err:
        print(f"{name}: return {what} as one array of shape {shape}, got {type(got).__name__} ({err}).")
        return None
    if arr.shape != shape:
        print(f"{name}: {what} has shape {arr.shape}, expected {shape}.")
        return None
    if arr.dtype == np.bool_:
        return arr
    if np.issubdtype(arr.dtype, np.integer) and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    print(f"{name}: {what} must hold booleans (or the integers 0 and 1), got dtype {arr.dtype}"
          + (f" with values such as {arr.ravel()[~np.isin(arr.ravel(), (0, 1))][:3].tolist()}" if arr.dtype.kind in "iuf" else "")
          + ".")
    return None


def to_array(name: str, what: str, got: Any) -> np.ndarray | None:
    """``got`` (an array, a tensor, nested lists) as one numeric numpy array; or None, after printing what came back
    instead (a ragged tuple, None, strings) rather than letting numpy's error reach the notebook."""
    try:
        arr = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got)
    except (ValueError, TypeError, RuntimeError) as err:  # e.g. a ragged tuple of arrays of different shapes
        print(f"{name}: {what} should be one array of numbers, got a {type(got).__name__} that numpy cannot turn "
              f"into one array ({str(err).splitlines()[0][:120]}).")
        return None
    if arr.dtype.kind not in "biuf":
        print(f"{name}: {what} should hold numbers, got dtype {arr.dtype} ({type(got).__name__}).")
        return None
    return arr


def compare(name: str, what: str, got: Any, want: np.ndarray, hints: dict[str, np.ndarray] | None = None) -> bool:
    """True when ``got`` matches ``want``; else print the shape or the largest difference, and any matching hint."""
    got = to_array(name, what, got)
    if got is None:
        return False
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
