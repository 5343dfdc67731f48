"""Checks for the character-language-model chapter's exercises. Each prints what is wrong, and returns a bool."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rnnbook.exercises.common import as_number
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import compare as _compare
from rnnbook.models.charlm import CharLM, next_char_probs
from rnnbook.tbptt import evaluate, evaluate_text


def check_next_char_probs(fn: Callable) -> bool:
    """Check ``fn(logits (V,), temperature, top_k) -> probabilities (V,)``: softmax(logits / T) over the top k."""
    name = "check_next_char_probs"
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0, 0.0, -2.5, 1.0])
    for temperature, top_k in [(1.0, None), (0.5, None), (2.0, None), (1.0, 3), (0.7, 2), (1.5, 1)]:
        ok, got = _call(name, fn, logits.clone(), temperature, top_k)
        if not ok:
            return False
        want = next_char_probs(logits, temperature, top_k).numpy().astype(float)
        keep = logits >= torch.topk(logits, top_k).values[-1] if top_k else torch.ones_like(logits, dtype=torch.bool)
        unnormalised = torch.where(keep, torch.softmax(logits / temperature, -1), torch.zeros(())).numpy()
        hints = {"softmax(logits * temperature): divide by the temperature instead":
                 torch.softmax(logits * temperature, -1).numpy(),
                 "softmax(logits) without the temperature": torch.softmax(logits, -1).numpy(),
                 "the top-k probabilities before renormalising them to sum to 1": unnormalised}
        if not _compare(name, f"the probabilities for temperature={temperature}, top_k={top_k}",
                        got, want, {k: v.astype(float) for k, v in hints.items()}):
            return False
    print(f"{name}: correct.")
    return True


def check_evaluate(fn: Callable) -> bool:
    """Check ``fn(model, ids, batch_size, seq_len) -> mean nats per character``, carrying the state across chunks."""
    name = "check_evaluate"
    torch.manual_seed(0)
    model = CharLM(5, hidden=8, cell="gru").eval()
    ids = np.random.default_rng(0).integers(0, 5, size=403)
    from rnnbook.data.streams import tbptt_batches
    want = evaluate_text(model, ids, 4, 10).nats  # before the answer runs: it gets the model itself, not a copy
    reset = evaluate(model, tbptt_batches(ids, 4, 10), carry_state=False).nats
    ok, got = _call(name, fn, model, ids, 4, 10)
    if not ok:
        return False
    got = as_number(name, got, "one number (mean nats per character)")
    if got is None:
        return False
    if abs(got - want) < 1e-4:
        print(f"{name}: correct ({got:.4f} nats/char).")
        return True
    print(f"{name}: got {got:.5f}, expected {want:.5f} nats per character.")
    if abs(got - reset) < 1e-4:
        print("  hint: that is the loss with the state reset at every chunk; carry it from one chunk to the next.")
    elif abs(got - want / np.log(2)) < 1e-4:
        print("  hint: that is bits per character; report nats (natural log).")
    return False
