"""rnnbook: the package behind the RNN book.

Each lecture concept lives in a module of its own name:

- ``rnnbook.data``      corpora, the download layer, ``Vocab``, TBPTT streams, synthetic sequence tasks
- ``rnnbook.numpy_nn``  CS231n-compatible numpy layers (``rnn_step_forward`` ...) and gradient checks
- ``rnnbook.models``    small PyTorch models, e.g. the computational graphs of the lecture
- ``rnnbook.train``     the training loop
- ``rnnbook.viz``       figures, graph diagrams and widgets (each widget with a static twin)
- ``rnnbook.exercises`` checks that students' answers call
"""

from rnnbook.env import get_device, get_scale, seed_everything, setup

__version__ = "0.1.0"
__all__ = ["get_device", "get_scale", "seed_everything", "setup", "__version__"]
