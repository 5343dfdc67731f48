"""Images with their captions: a grid (generated caption above, a reference below), the failure cases (the
captions with the lowest BLEU), and a one-image panel for an interactive slider. Viz never trains."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from rnnbook.viz.style import BAD, GOOD, NEUTRAL, fontsize_for


def _as_hwc(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return image.transpose(1, 2, 0) if image.ndim == 3 and image.shape[0] in (1, 3) else image


def caption_grid(images: np.ndarray, captions: Sequence[str], references: Sequence[Sequence[str]] | None = None,
                 notes: Sequence[str] | None = None, ncols: int = 4, title: str | None = None):
    """A grid of images, each titled with its generated caption (marked ✓ in blue when it equals a reference, ✗ in
    vermillion otherwise), the first reference below in grey and an optional note (e.g. 'BLEU-4 0.31').
    images (N, 3, S, S) in [0, 1]. The font is sized so that it reads at the book's column width."""
    import matplotlib.pyplot as plt

    n = len(images)
    if len(captions) != n:
        raise ValueError(f"caption_grid: {n} images but {len(captions)} captions")
    nrows = int(np.ceil(n / ncols))
    panel = 2.5                                     # inches per image
    size = fontsize_for(panel * ncols)
    width = max(12, int(panel * 72 / (0.55 * size)))  # characters per caption line at that size
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel * ncols, (panel + 0.3 * size / 12 * 6) * nrows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:n]):
        ax.axis("on")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.imshow(np.clip(_as_hwc(images[i]), 0, 1), interpolation="nearest")
        ok = references is not None and captions[i] in references[i]
        color, mark = ("black", "") if references is None else ((GOOD, " ✓") if ok else (BAD, " ✗"))
        ax.set_title("\n".join(textwrap.wrap((captions[i] or "(empty)") + mark, width)), fontsize=size, color=color)
        below = []
        if references is not None:
            below.append("ref: " + references[i][0])
        if notes is not None:
            below.append(notes[i])
        if below:  # as the x label, so that tight_layout makes room for it
            ax.set_xlabel("\n".join(textwrap.wrap("  ".join(below), width)), fontsize=size, color=NEUTRAL)
    if title:
        fig.suptitle(title, fontsize=size * 1.1)
    fig.tight_layout()
    return fig


def failure_grid(images: np.ndarray, captions: Sequence[str], references: Sequence[Sequence[str]], scores: np.ndarray,
                 k: int = 8, ncols: int = 4):
    """The ``k`` captions with the lowest ``scores`` (e.g. sentence BLEU), worst first; returns (figure, indices)."""
    worst = np.argsort(np.asarray(scores), kind="stable")[:k]
    fig = caption_grid(np.asarray(images)[worst], [captions[i] for i in worst], [references[i] for i in worst],
                       notes=[f"BLEU-4 {scores[i]:.2f}" for i in worst], ncols=ncols,
                       title=f"The {len(worst)} worst captions")
    return fig, worst


def caption_panel(image: np.ndarray, decoded: dict[str, str], references: Sequence[str]):
    """One image with several decodings (e.g. {'greedy': ..., 'beam 3': ...}) and its references, for a slider."""
    import matplotlib.pyplot as plt

    fig, (ax_img, ax_txt) = plt.subplots(1, 2, figsize=(8, 3.2), gridspec_kw={"width_ratios": [1, 2]})
    ax_img.imshow(np.clip(_as_hwc(image), 0, 1), interpolation="nearest")
    ax_img.axis("off")
    ax_txt.axis("off")
    lines = [f"{name}: {text}" + ("   ✓" if text in references else "   ✗") for name, text in decoded.items()]
    lines += [""] + [f"reference: {r}" for r in references]
    ax_txt.text(0, 1, "\n".join("\n   ".join(textwrap.wrap(l, 48)) for l in lines), va="top", fontsize=11,
                family="monospace")
    fig.tight_layout()
    return fig
