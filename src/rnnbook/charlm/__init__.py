"""char-rnn as a tool: train a character model on your own text, sample from it, score another text.

    python -m rnnbook.charlm train INPUT.txt --out DIR [--minutes 5 | --steps 2000] [--cell lstm --hidden 224 ...]
    python -m rnnbook.charlm train --resume DIR                     # continue exactly where it stopped
    python -m rnnbook.charlm sample DIR --prime "ROMEO:" --temperature 0.8 --length 500 --seed 0
    python -m rnnbook.charlm eval DIR OTHER.txt                     # nats/char, bits/char, perplexity
    torchrun --nproc_per_node=2 -m rnnbook.charlm train INPUT.txt --out DIR   # data parallel (Gloo on CPU, NCCL on GPU)

The same functions from Python: ``train``, ``sample``, ``evaluate_file``, ``load``.
"""

from rnnbook.charlm.checkpoint import CharLMError
from rnnbook.charlm.run import Run, Settings, evaluate_file, load, sample, train

__all__ = ["CharLMError", "Run", "Settings", "evaluate_file", "load", "sample", "train"]
