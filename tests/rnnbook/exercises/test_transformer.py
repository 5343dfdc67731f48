"""Tests of ``rnnbook.exercises.transformer``: checks for chapter 10b's exercises: the sinusoidal encoding's offset
matrix, and the scale of the scores. Each prints what is right or what is wrong (naming the likely mistake) and
returns a bool; a template that still raises ``NotImplementedError`` gets a reminder."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnbook.exercises.beyond import check_beam_search  # noqa: E402
from rnnbook.exercises.transformer import (  # noqa: E402
    _offset_reference,
    check_offset_matrix,
    check_score_scale,
)


def test_check_offset_matrix(capsys):
    assert check_offset_matrix(_offset_reference)
    assert not check_offset_matrix(lambda k, d: _offset_reference(k, d).T)
    assert "transpose" in capsys.readouterr().out
    assert not check_offset_matrix(lambda k, d: -_offset_reference(k, d))
    assert "sign" in capsys.readouterr().out
    assert not check_offset_matrix(lambda k, d: np.kron(np.eye(d // 2), _offset_reference(k, 2)))
    assert "own frequency" in capsys.readouterr().out
    assert not check_offset_matrix(lambda k, d: np.eye(d))


def test_check_score_scale(capsys):
    assert check_score_scale(lambda d, sq, sk: 1 / (math.sqrt(d) * sq * sk))
    assert not check_score_scale(lambda d, sq, sk: 1 / math.sqrt(d))
    assert "standard deviations of q and k are missing" in capsys.readouterr().out
    assert not check_score_scale(lambda d, sq, sk: 1 / (d * sq**2 * sk**2))
    assert "one over the variance" in capsys.readouterr().out
    assert not check_score_scale(lambda d, sq, sk: "0.1")


@pytest.mark.parametrize("answer", [lambda *a: ([0.1, 0.2], [0.3]), lambda *a: None, lambda *a: "0.5"])
def test_new_checks_survive_odd_returns(answer, capsys):
    for check in (check_beam_search, check_offset_matrix, check_score_scale):
        assert check(answer) is False, check.__name__
    assert "Traceback" not in capsys.readouterr().out
