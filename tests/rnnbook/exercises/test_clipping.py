"""Tests of ``rnnbook.exercises.clipping``: the check for gradient clipping by global norm (Pascanu et al.), the
exercise of chapters 2 and 6."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402


def _solution_clip(grads, max_norm):
    total = np.sqrt(sum(float((g**2).sum()) for g in grads))
    return [g * min(1.0, max_norm / total) for g in grads]


def _template(*args):
    raise NotImplementedError("your code here")


def test_check_clip_by_global_norm(capsys):
    # the one clipping check, called by the exercises of chapters 2 and 6
    from rnnbook.exercises.clipping import check_clip_by_global_norm as check

    def guarded(grads, c):  # chapter 2's solution: a zero gradient is left alone
        norm = np.sqrt(sum((g ** 2).sum() for g in grads))
        return [g * min(1.0, c / norm) for g in grads] if norm > 0 else grads

    assert check(_solution_clip) and "correct" in capsys.readouterr().out
    assert check(guarded) and "correct" in capsys.readouterr().out
    assert not check(lambda gs, m: [np.clip(g, -m, m) for g in gs])
    out = capsys.readouterr().out
    assert "value clipping" in out and "element-wise" in out
    assert not check(lambda gs, m: [g * min(1.0, m / np.linalg.norm(g)) for g in gs])
    assert "its own norm" in capsys.readouterr().out
    total = lambda gs: np.sqrt(sum(float((g**2).sum()) for g in gs))  # noqa: E731
    assert not check(lambda gs, m: [g * m / total(gs) for g in gs])
    assert "always rescaled" in capsys.readouterr().out
    assert not check(lambda gs, m: gs[:1])
    assert "one clipped array per gradient" in capsys.readouterr().out
    assert not check(_template)
