"""Checks that students' answers call, one module per chapter topic. Each check prints what is right, or what is
wrong and where, and returns a bool; a template that still raises NotImplementedError gets a reminder, not a crash.
"""

from rnnbook.exercises import (
    attention, beyond, captioning, charlm, clipping, gradflow, interpret, lstm, minchar, recurrence, tbptt, transformer,
)
from rnnbook.exercises.recurrence import check_multilayer_rnn, check_rnn_step_backward

__all__ = ["attention", "beyond", "captioning", "charlm", "check_multilayer_rnn", "check_rnn_step_backward", "clipping",
           "gradflow", "interpret", "lstm", "minchar", "recurrence", "tbptt", "transformer"]
