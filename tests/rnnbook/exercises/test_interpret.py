"""Tests of ``rnnbook.exercises.interpret``: checks for the interpretable-cells chapter's exercises. Each prints what is
wrong, and returns a bool."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnbook.exercises import interpret
from rnnbook.exercises.interpret import check_in_indent
from rnnbook.interpret import c_features


def _indent(text):
    out = np.zeros(len(text), dtype=bool)
    for m in re.finditer(r"^[ \t]+", text, flags=re.M):
        out[m.start():m.end()] = True
    return out


def test_in_indent():
    assert check_in_indent(_indent)


@pytest.mark.parametrize("answer, hint", [
    (lambda t: np.array([c in " \t" for c in t]), "every space and tab"),
    (lambda t: _indent(t) | np.array([c == "\n" for c in t]), "newline ends its line"),
    (lambda t: _indent(t) & np.array([c == " " for c in t]), "a tab indents too"),
])
def test_in_indent_names_the_mistake(answer, hint, capsys):
    assert not check_in_indent(answer)
    assert hint in capsys.readouterr().out


# --- exercise checks ---------------------------------------------------------------------------------------------

def test_check_auc(capsys):
    from rnnbook.exercises.interpret import check_auc

    def right(scores, labels):
        pos, neg = scores[labels], scores[~labels]
        return np.mean((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None]))

    assert check_auc(right)
    assert not check_auc(lambda s, y: 1 - right(s, y)) and "1 - AUC" in capsys.readouterr().out
    assert not check_auc(lambda s, y: np.mean(s[y][:, None] > s[~y][None]))  # ties not counted half


def test_check_inside_comment(capsys):
    from rnnbook.exercises.interpret import check_inside_comment

    assert check_inside_comment(lambda text: c_features(text)["comment"])

    def naive(text):  # forgets strings
        return c_features(text.replace('"', " "))["comment"]

    assert not check_inside_comment(naive) and "should be outside" in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


def test_8_a_comment_mask_of_halves_is_rejected(capsys):
    from rnnbook.interpret import c_features

    assert not interpret.check_inside_comment(lambda text: c_features(text)["comment"] * 0.5)
    assert "booleans" in capsys.readouterr().out
