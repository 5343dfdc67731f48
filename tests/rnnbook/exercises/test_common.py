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
    from rnnbook.exercises import charlm, clipping, gradflow, tbptt, transformer
    from rnnbook.exercises import minchar as mc

    checks = [charlm.check_nucleus_probs, clipping.check_clip_by_global_norm, gradflow.check_grad_h0,  # compare
              transformer.check_offset_matrix,  # to_array
              tbptt.check_tbptt_mask, interpret.check_inside_comment,  # as_mask
              mc.check_word_probability, transformer.check_score_scale,  # as_number
              attention.check_majority_answer]
    for check in checks:
        assert check(answer) is False, check.__name__
    assert "Traceback" not in capsys.readouterr().out
