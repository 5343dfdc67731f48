"""Attention maps: over images, one panel per generated word (Xu et al.'s figure), VQA glimpses, and over words,
the heat map of a seq2seq decoder's attention (Bahdanau et al.'s figure, ``plot_attention``).

Each has a widget for Jupyter/Colab and a static twin (the same drawing function) for the HTML book.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from rnnbook.viz.style import fontsize_for


def _upsample(alpha: np.ndarray, grid: tuple[int, int], size: int) -> np.ndarray:
    """alpha (L,) on a grid -> (size, size) map, each cell repeated over its pixels, scaled to a maximum of 1."""
    gh, gw = grid
    cells = np.asarray(alpha, dtype=np.float64).reshape(gh, gw)
    up = np.kron(cells, np.ones((size // gh, size // gw)))
    return up / max(up.max(), 1e-12)


def overlay(ax: plt.Axes, image: np.ndarray, alpha: np.ndarray | None, grid: tuple[int, int] = (8, 8),
            title: str = "", fontsize: float = 12) -> None:
    """Draw ``image`` (3, S, S) with the attention ``alpha`` (L,) as a light veil: bright where the model looks."""
    img = np.transpose(np.asarray(image), (1, 2, 0))
    if alpha is not None:
        veil = _upsample(alpha, grid, img.shape[0])[..., None]
        img = img * (0.25 + 0.75 * veil) + 0.45 * veil
    ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def caption_attention_figure(image: np.ndarray, words: Sequence[str], alphas: np.ndarray,
                             grid: tuple[int, int] = (8, 8), per_row: int = 6) -> plt.Figure:
    """The paper's figure: the image, then one panel per generated word with that word's attention over it.

    words: the generated words (up to and including <END>); alphas (T, L) the attention used to emit each word.
    """
    words = list(words)
    if len(alphas) < len(words):
        raise ValueError(f"need one attention map per word: {len(words)} words, {len(alphas)} maps")
    n = len(words) + 1
    rows = (n + per_row - 1) // per_row
    cols = min(n, per_row)
    size = fontsize_for(1.5 * per_row)  # the same font whatever the number of words
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.5 * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    overlay(axes.flat[0], image, None, grid, "image", size)
    for t, w in enumerate(words):
        overlay(axes.flat[t + 1], image, alphas[t], grid, w, size)
    fig.tight_layout()
    return fig


def attention_widget(images: np.ndarray, words: Sequence[Sequence[str]], alphas: np.ndarray,
                     grid: tuple[int, int] = (8, 8)):
    """A slider over examples that redraws ``caption_attention_figure`` (its static twin)."""
    import ipywidgets as widgets

    def show(example: int) -> None:
        caption_attention_figure(images[example], words[example], alphas[example], grid)
        plt.show()

    return widgets.interact(show, example=widgets.IntSlider(value=0, min=0, max=len(images) - 1,
                                                            description="example"))


def vqa_attention_figure(images: np.ndarray, questions: Sequence[str], answers: Sequence[str],
                         truths: Sequence[str], alphas: np.ndarray, grid: tuple[int, int] = (8, 8)) -> plt.Figure:
    """One column per question: the image, then each glimpse's attention; titles give question, answer and truth.

    alphas (n, K, L): K glimpses per question.
    """
    n, K = alphas.shape[:2]
    size = fontsize_for(2.1 * max(n, 4))
    fig, axes = plt.subplots(K + 1, n, figsize=(2.1 * n, 2.0 * (K + 1) + 0.5), squeeze=False)
    for j in range(n):
        mark = "✓" if answers[j] == truths[j] else "✗"
        overlay(axes[0, j], images[j], None, grid)
        axes[0, j].set_title(f"{questions[j]}\n→ {answers[j]} {mark}", fontsize=size)
        for k in range(K):
            overlay(axes[k + 1, j], images[j], alphas[j, k], grid, f"glimpse {k + 1}", size)
    fig.tight_layout()
    return fig


def plot_attention(weights, src_tokens: Sequence[str], tgt_tokens: Sequence[str], ax=None):
    """Heat map of seq2seq attention ``weights`` (T, S): row t = where the decoder looked to write token t."""
    weights = np.asarray(weights)
    if weights.shape != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(f"weights have shape {weights.shape}, expected ({len(tgt_tokens)}, {len(src_tokens)}) "
                         "= (output tokens, input tokens)")
    ax = ax or plt.subplots(figsize=(0.45 * len(src_tokens) + 1.5, 0.4 * len(tgt_tokens) + 1.2))[1]
    ax.imshow(weights, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(src_tokens)), src_tokens, rotation=60, ha="right", fontsize=11)
    ax.set_yticks(range(len(tgt_tokens)), tgt_tokens, fontsize=11)
    ax.set_xlabel("input words")
    ax.set_ylabel("output")
    return ax
