"""Every chapter's two recipes: the sizes it trains at, read by its setup cell as ``R = recipe("04", SCALE)``.

``ci`` (the default of ``$RNNBOOK_SCALE``) is the tested size: each chapter runs in about two minutes on two CPU
cores. ``full`` is for a reader with a GPU (Colab): bigger models, more updates, longer sequences. Both live here so
that ``tests/rnnbook/test_recipes.py`` can build every full-size model and take a few steps with it on CPU, and
``tools/full_scale.py`` (``make full``) can execute the chapters at the full scale.

Each chapter's recipe is a ``TypedDict``: its docstring says what the full scale is for, its fields are the sizes.
Chapter 1 has no recipe: its experiments are small enough to run at one size.
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict

from rnnbook.env import SCALES


class Ch02(TypedDict):
    """min-char-rnn on tiny-shakespeare. ``n_iters`` updates of the faithful (unbatched) port, ``twin_chars``
    characters read by its batched twin. Full: ten times longer training, for samples that look like the play."""
    n_iters: int
    twin_chars: int


class Ch03(TypedDict):
    """Truncated BPTT. ``cost_ks``: chunk lengths whose memory and time one update costs (full: up to 1,024 steps,
    149 MB kept for backward; the whole chapter peaked at 1.2 GB of RAM on CPU); ``carry_steps``: updates of the
    carry-the-state versus reset comparison;
    ``recall_steps``, ``recall_ks``, ``delays``: the delayed-recall grid (full: longer training, more k and d).
    The full grid stops at k = 16: with k = 32 the chapter's 64-unit LSTM did not learn d = 16 (accuracy 0.50
    after 1,000, 2,000 and 4,000 updates, measured on CPU), so the chapter's claim "learned for d <= k/2" would
    fail there for want of capacity or training, not because of truncation."""
    cost_ks: tuple[int, ...]
    carry_steps: int
    recall_steps: int
    recall_ks: tuple[int, ...]
    delays: tuple[int, ...]


class Ch04(TypedDict):
    """The character-level LSTM language model on tiny-shakespeare (and the LaTeX and C corpora with
    ``small_batch``/``small_steps``). Full: two layers of 512 units with dropout, 12,000 updates of 64 x 128
    characters, a budget meant to take the LSTM well past every n-gram (not measured on a GPU)."""
    hidden: int
    layers: int
    dropout: float
    batch: int
    k: int
    lr: float
    steps: int
    small_batch: int
    small_steps: int
    embed_dim: int | None  # the character embedding's width (None: as wide as the LSTM)
    small_hidden: int      # the LaTeX and C models' width
    small_lr: float        # and learning rate


class Ch05(TypedDict):
    """Interpretable cells: a C model (``steps``) and a prose model (``prose_steps``), ``record`` characters of
    held-out text recorded, ``rows`` of coloured text shown. Full: bigger, longer-trained models, closer to the
    paper's, for cells that track brace and parenthesis depth."""
    hidden: int
    layers: int
    batch: int
    k: int
    lr: float
    steps: int
    prose_steps: int
    record: int
    rows: int


class Ch06(TypedDict):
    """Gradient flow. ``t_max``: how far back in time the gradient is followed; ``echo_steps``: updates of the
    clipping comparison on the delayed echo. Full: twice the horizon, five times the updates."""
    t_max: int
    echo_steps: int


class Ch07(TypedDict):
    """LSTM, GRU and variants on the adding problem (length ``t_add``) and delayed recall (lag ``lag``), one run per
    seed in ``seeds`` (counted from the chapter's seed; the table gives medians), ``steps`` updates per task. Full:
    longer sequences and more updates."""
    t_add: int
    lag: int
    seeds: list[int]
    steps: dict[str, int]


class Ch08(TypedDict):
    """Image captioning on synthetic scenes: ``n_train``/``n_test`` images with up to ``max_objects`` objects,
    ``steps`` updates of the CNN+LSTM captioner. Full: four times the data, three objects, eight times the updates."""
    n_train: int
    n_test: int
    max_objects: int
    steps: int


class Ch09(TypedDict):
    """Show, Attend and Tell on synthetic scenes: ``train``/``test`` images, ``pretrain`` encoder updates, ``steps``
    captioner updates, beam search on ``beam_images`` test images. Full: four times the data, longer training."""
    train: int
    test: int
    pretrain: int
    steps: int
    beam_images: int


class Ch09b(TypedDict):
    """Visual question answering on synthetic scenes: ``train``/``test`` images, ``pretrain`` encoder updates,
    ``steps`` updates per model. Full: four times the data, five times the updates."""
    train: int
    test: int
    pretrain: int
    steps: int


class Ch10(TypedDict):
    """The glimpse classifier (``g_*``: glimpse size, hidden units, updates) on 8x8 digits and seq2seq from number
    words to digits (``s_*``; numbers of ``digits`` = (fewest, most) digits). Full: wider models, ten times the
    updates, numbers up to nine digits."""
    g_size: int
    g_hidden: int
    g_steps: int
    s_hidden: int
    s_steps: int
    s_batch: int
    digits: tuple[int, int]


class Ch10b(TypedDict):
    """The tiny Transformer beside the LSTM on tiny-shakespeare, ``steps`` updates of ``batch`` x ``k`` characters
    each, validated on ``val_chars`` characters (None: the whole split). Full: chapter 4's full LSTM size against a
    4-layer, 256-wide Transformer over 128-character blocks, where the parallel shape pays on a GPU."""
    steps: int
    batch: int
    k: int
    hidden: int
    d_model: int
    layers: int
    heads: int
    val_chars: int | None


RECIPES: dict[str, tuple[type, dict[str, Any], dict[str, Any]]] = {
    "02": (Ch02, Ch02(n_iters=2000, twin_chars=500_000),
                 Ch02(n_iters=20_000, twin_chars=5_000_000)),
    "03": (Ch03, Ch03(cost_ks=(8, 16, 32, 64, 128, 256), carry_steps=400, recall_steps=250,
                      recall_ks=(4, 16), delays=(2, 4, 8, 16, 32)),
                 Ch03(cost_ks=(8, 16, 32, 64, 128, 256, 512, 1024), carry_steps=3000, recall_steps=1000,
                      recall_ks=(4, 8, 16), delays=(1, 2, 4, 8, 16, 32, 64))),
    "04": (Ch04, Ch04(hidden=224, layers=1, dropout=0.0, batch=64, k=32, lr=1.2e-2, steps=3000, small_batch=32,
                      small_steps=200, embed_dim=32, small_hidden=128, small_lr=1e-2),
                 Ch04(hidden=512, layers=2, dropout=0.25, batch=64, k=128, lr=2e-3, steps=12000, small_batch=64,
                      small_steps=3000, embed_dim=None, small_hidden=512, small_lr=2e-3)),
    "05": (Ch05, Ch05(hidden=96, layers=2, batch=32, k=64, lr=1e-2, steps=1200, prose_steps=120, record=12000, rows=16),
                 Ch05(hidden=256, layers=2, batch=64, k=100, lr=2e-3, steps=8000, prose_steps=4000, record=50000,
                      rows=50)),
    "06": (Ch06, Ch06(t_max=100, echo_steps=40),
                 Ch06(t_max=200, echo_steps=200)),
    "07": (Ch07, Ch07(t_add=20, lag=15, seeds=[0, 1, 2], steps={"adding": 150, "recall": 100}),
                 Ch07(t_add=50, lag=40, seeds=[0, 1, 2], steps={"adding": 1500, "recall": 1000})),
    "08": (Ch08, Ch08(n_train=3000, n_test=300, max_objects=2, steps=750),
                 Ch08(n_train=12000, n_test=1000, max_objects=3, steps=6000)),
    "09": (Ch09, Ch09(train=3000, test=300, pretrain=150, steps=300, beam_images=40),
                 Ch09(train=12000, test=1000, pretrain=400, steps=2000, beam_images=300)),
    "09b": (Ch09b, Ch09b(train=3000, test=500, pretrain=150, steps=600),
                   Ch09b(train=12000, test=2000, pretrain=400, steps=3000)),
    "10": (Ch10, Ch10(g_size=2, g_hidden=64, g_steps=300, s_hidden=64, s_steps=300, s_batch=64, digits=(1, 7)),
                 Ch10(g_size=2, g_hidden=128, g_steps=3000, s_hidden=256, s_steps=4000, s_batch=128, digits=(1, 9))),
    "10b": (Ch10b, Ch10b(steps=250, batch=64, k=32, hidden=128, d_model=64, layers=2, heads=4, val_chars=30_000),
                   Ch10b(steps=12000, batch=64, k=128, hidden=512, d_model=256, layers=4, heads=8, val_chars=None)),
}


def recipe(chapter: str, scale: str) -> dict[str, Any]:
    """The sizes chapter ``chapter`` (``"04"``, ``"09b"``) trains at, at scale ``"ci"`` or ``"full"``.

    Returns a fresh copy (a chapter may change its own without touching the table)."""
    if chapter not in RECIPES:
        raise ValueError(f"chapter must be one of {sorted(RECIPES)} (the chapters with a recipe), got {chapter!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES} (what RNNBOOK_SCALE says), got {scale!r}")
    _, ci, full = RECIPES[chapter]
    return copy.deepcopy(ci if scale == "ci" else full)
