"""The check for gradient clipping by global norm (Pascanu et al.), the exercise of chapters 2 and 6."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import compare as _compare


def check_clip_by_global_norm(fn: Callable) -> bool:
    """Check ``fn(grads, max_norm) -> clipped`` (lists of arrays): every array scaled by min(1, max_norm / ||g||).

    ||g|| is the global norm over every array: sqrt(sum of all squared entries). Gradients above ``max_norm`` are
    scaled down to it, in the same direction; gradients below it are left unchanged.
    """
    name = "check_clip_by_global_norm"
    rng = np.random.default_rng(11)
    big = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(4) * 5, rng.standard_normal((2, 2)) * 5]
    rng = np.random.default_rng(1)
    two = [rng.standard_normal((4, 3)) * 3, rng.standard_normal((4, 1)) * 3]
    cases = [("gradients larger than max_norm", big, 1.0), ("gradients smaller than max_norm", [g / 100 for g in big], 1.0),
             ("max_norm=5.0", two, 5.0), ("max_norm=100.0", two, 100.0)]
    for label, grads, max_norm in cases:
        ok, got = _call(name, fn, [g.copy() for g in grads], max_norm)
        if not ok:
            return False
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            print(f"{name}: return a list with one clipped array per gradient ({len(grads)}), got {type(got).__name__}.")
            return False
        total = np.sqrt(sum(float(np.sum(g * g)) for g in grads))  # the global norm
        scale = min(1.0, max_norm / total)
        for k, (g_got, g) in enumerate(zip(got, grads)):
            hints = {
                "each array clipped by its own norm (use the global norm over all arrays)":
                    g * min(1.0, max_norm / np.linalg.norm(g)),
                "element-wise value clipping (np.clip), which changes the direction": np.clip(g, -max_norm, max_norm),
                "the gradient always rescaled to max_norm (leave small gradients unchanged)": g * max_norm / total,
            }
            if not _compare(name, f"array {k} ({label})", g_got, g * scale, hints):
                return False
    print(f"{name}: correct.")
    return True


__all__ = ["check_clip_by_global_norm"]
