"""Settings and helpers the char-rnn tool's tests share: a tiny model (32 units, batches of 8 rows of 16 characters) on
a generated text, so each test takes seconds."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

SRC = Path(__file__).resolve().parents[3] / "src"


TINY = dict(hidden=32, embed=16, batch=8, k=16, eval_every=10)


TINY_ARGS = ["--hidden", "32", "--embed", "16", "--batch", "8", "--k", "16", "--eval-every", "10"]


def make_text(lines: int = 700, seed: int = 0) -> str:
    """Sentences drawn from a dozen words: a text with structure a small model learns in a few updates."""
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "big", "red", "house"]
    return "".join(" ".join(rng.choice(words, size=rng.integers(3, 8))) + ".\n" for _ in range(lines))


def env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1",
            "RNNBOOK_DEVICE": "cpu"}


def meta(path: Path) -> dict:
    return torch.load(path, weights_only=True)["meta"]


def unigram_nats(train_text: str, val_text: str) -> float:
    """Cross-entropy of the validation text under the training text's character frequencies (add-one)."""
    chars = sorted(set(train_text) | set(val_text))
    counts = np.array([train_text.count(c) + 1 for c in chars], dtype=float)
    p = dict(zip(chars, counts / counts.sum()))
    return float(-np.mean([math.log(p[c]) for c in val_text]))
