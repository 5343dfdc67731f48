"""Tests of ``rnnbook.exercises.tbptt``: checks for the truncated-BPTT chapter's exercises. Each prints what is right or
what is wrong, and returns a bool."""

from __future__ import annotations

import numpy as np
import torch

from rnnbook.exercises import tbptt as tbptt_ex
from rnnbook.exercises.tbptt import check_detach_state, check_tbptt_mask
from rnnbook.tbptt import detach_state

# --- the chapter's exercise checks: a right answer passes, wrong ones fail with a message -----------------------

def test_check_detach_state(capsys):
    assert check_detach_state(detach_state)
    assert not check_detach_state(lambda s: s)
    assert "attached" in capsys.readouterr().out
    assert not check_detach_state(lambda s: None if s is None else (torch.zeros_like(s) if isinstance(s, torch.Tensor)
                                                                      else tuple(torch.zeros_like(t) for t in s)))
    assert "resets the state" in capsys.readouterr().out

    def in_place(s):
        return s.detach_() if isinstance(s, torch.Tensor) else s
    assert not check_detach_state(in_place)
    assert "in place" in capsys.readouterr().out

    def template(s):
        raise NotImplementedError("your code here")
    assert not check_detach_state(template)
    assert "not implemented" in capsys.readouterr().out


def test_check_tbptt_mask(capsys):
    def right(T, k):
        t, s = np.indices((T, T))
        return (s <= t) & (s // k == t // k)

    def full(T, k):
        t, s = np.indices((T, T))
        return s <= t

    def window(T, k):
        t, s = np.indices((T, T))
        return (s <= t) & (t - s < k)

    assert check_tbptt_mask(right)
    assert not check_tbptt_mask(full)
    assert "full BPTT" in capsys.readouterr().out
    assert not check_tbptt_mask(window)
    assert "sliding window" in capsys.readouterr().out
    assert not check_tbptt_mask(lambda T, k: right(T, k).T)
    assert "transposed" in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


def test_8_a_mask_of_halves_is_rejected(capsys):
    from rnnbook.tbptt import gradient_mask

    assert not tbptt_ex.check_tbptt_mask(lambda T, k: gradient_mask(T, k) * 0.5 + 0.0 * (gradient_mask(T, k) == 0))
    assert "booleans" in capsys.readouterr().out
    assert tbptt_ex.check_tbptt_mask(lambda T, k: gradient_mask(T, k).astype(int))  # 0/1 integers are a mask
