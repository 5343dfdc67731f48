"""CS231n-compatible numpy layers (numpy only, no torch) and numerical gradient checks."""

from rnnbook.numpy_nn.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from rnnbook.numpy_nn.rnn import (
    multilayer_rnn_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "eval_numerical_gradient", "eval_numerical_gradient_array", "multilayer_rnn_forward", "rel_error",
    "rnn_backward", "rnn_forward", "rnn_step_backward", "rnn_step_forward",
]
