"""Tiny character models the tests of several modules build (tbptt, the checkpoints, CharLM)."""

from __future__ import annotations

import torch

from rnnbook.models.charlm import CharLM

V = 7


def _model(cell: str = "gru", seed: int = 0) -> CharLM:
    torch.manual_seed(seed)
    return CharLM(V, hidden=12, cell=cell)


def model(seed: int = 0, **kw) -> CharLM:
    torch.manual_seed(seed)
    return CharLM(7, hidden=12, cell="gru", **kw)


def small_lm(**kw) -> CharLM:
    torch.manual_seed(0)
    return CharLM(20, hidden=16, **kw)
