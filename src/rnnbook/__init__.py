"""rnnbook: the package behind the RNN book.

Each lecture concept lives in a module of its own name:

- ``rnnbook.data``      corpora, the download layer, ``Vocab``, TBPTT streams, synthetic sequence tasks
- ``rnnbook.numpy_nn``  CS231n-compatible numpy layers (``rnn_step_forward``, ``lstm_step_forward`` ...), gradient checks
- ``rnnbook.minchar``   Karpathy's min-char-rnn, line for line (``python -m rnnbook.minchar``); ``minchar_batched`` its twin
- ``rnnbook.tbptt``     truncated backpropagation through time for language models (``train_lm``, ``evaluate``)
- ``rnnbook.ngram``     the n-gram baseline a char-LM must beat
- ``rnnbook.cells``     RNN, LSTM, GRU and MUT1-3 cells written from the lecture's equations; ``StackedRNN``
- ``rnnbook.gradflow``  Jacobian products, singular values, gradient norms through time
- ``rnnbook.models``    small PyTorch models (``nn.Module`` only): the lecture's computational graphs, ``CharLM``,
                        highway stacks, captioner, soft and hard attention, VQA, glimpses, seq2seq, bidirectional
                        tagger, Transformer
- ``rnnbook.interpret`` recording an LSTM's cells and gates, features defined by code, cell search
- ``rnnbook.metrics``   what the book measures: nats, bits, perplexity, BLEU (sacrebleu), accuracy, AUC (scikit-learn)
- ``rnnbook.grounding`` how much of the attention falls on the object a word names
- ``rnnbook.train``     the training loop (schedules, clipping, divergence check, checkpoints); ``train.tasks``
                        the trainers of the captioner, the encoder, the glimpse model, seq2seq and the look-back heads
- ``rnnbook.reinforce`` the score-function (REINFORCE) surrogate loss and its moving-average baseline
- ``rnnbook.claims``    ``report_claims``: a chapter's claims as a table, asserted, and glued for the summary page
- ``rnnbook.recipes``   every chapter's two sizes (``ci``, ``full``): ``R = rnnbook.recipes.recipe("04", SCALE)``
- ``rnnbook.viz``       figures, graph diagrams and widgets (each widget with a static twin)
- ``rnnbook.exercises`` checks that students' answers call
"""

from rnnbook import recipes
from rnnbook.claims import report_claims
from rnnbook.env import get_device, get_scale, get_seed, seed_everything, setup

__version__ = "0.1.0"
__all__ = ["recipes", "report_claims", "get_device", "get_scale", "get_seed", "seed_everything", "setup", "__version__"]
