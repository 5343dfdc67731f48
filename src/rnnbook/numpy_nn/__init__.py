"""CS231n-compatible numpy layers (numpy only, no torch) and numerical gradient checks."""

from rnnbook.numpy_nn.captioning import (
    CaptioningRNN,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from rnnbook.numpy_nn.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from rnnbook.numpy_nn.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward, sigmoid
from rnnbook.numpy_nn.rnn import (
    multilayer_rnn_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "CaptioningRNN", "temporal_affine_backward", "temporal_affine_forward", "temporal_softmax_loss",
    "word_embedding_backward", "word_embedding_forward",
    "eval_numerical_gradient", "eval_numerical_gradient_array", "lstm_backward", "lstm_forward", "lstm_step_backward",
    "lstm_step_forward", "multilayer_rnn_forward", "rel_error", "sigmoid",
    "rnn_backward", "rnn_forward", "rnn_step_backward", "rnn_step_forward",
]
