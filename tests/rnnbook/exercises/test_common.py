"""Tests of ``rnnbook.exercises.common``: what every exercise check shares: calling a student's function safely, and
comparing arrays with a message."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.exercises import attention, interpret


def test_as_number_accepts_scalars_and_explains_the_rest(capsys):
    from rnnbook.exercises.common import as_number

    assert as_number("check_x", 1) == 1.0
    assert as_number("check_x", np.float32(0.5)) == 0.5
    assert as_number("check_x", np.array(2.5)) == 2.5
    assert as_number("check_x", (1.0, 2.0), "one number (nats)") is None
    assert "check_x: return one number (nats), got tuple." in capsys.readouterr().out


def test_returns_tuple_names_what_was_expected(capsys):
    from rnnbook.exercises.common import returns_tuple

    assert returns_tuple("check_x", (1, 2), 2, "the pair (a, b)")
    assert not returns_tuple("check_x", (1, 2, 3), 2, "the pair (a, b)")
    assert "check_x: return the pair (a, b), got tuple of 3." in capsys.readouterr().out
    assert not returns_tuple("check_x", [1, 2], 2, "the pair (a, b)")
    assert "check_x: return the pair (a, b), got list." in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [lambda *a: ([0.1, 0.2], [0.3]), lambda *a: None, lambda *a: "0.5"])
def test_exercise_checks_survive_odd_returns(answer, capsys):
    """Checks that convert the answer themselves print what came back instead of letting numpy raise."""
    from rnnbook.exercises import beyond, charlm, clipping
    from rnnbook.exercises import minchar as mc

    checks = [charlm.check_next_char_probs, clipping.check_clip_by_global_norm, interpret.check_position_in_line,
              beyond.check_causal_mask, beyond.check_causal_attention, mc.check_softmax_temperature,
              attention.check_majority_answer]
    for check in checks:
        assert check(answer) is False, check.__name__
    assert "Traceback" not in capsys.readouterr().out
