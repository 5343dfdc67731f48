"""Where a recurrent attention model looks: the glimpse path over an image and the patches it saw.

The figures are drawn from arrays the chapter already computed (viz never trains). Seq2seq attention weights are
drawn by ``rnnbook.viz.attention.plot_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from rnnbook.viz.style import BAD


def loc_to_pixels(loc: np.ndarray, width: int) -> np.ndarray:
    """Map locations in [-1, 1] (grid_sample's convention, align_corners=False) to imshow's pixel coordinates,
    where pixel centres are 0..width-1 and the image's edges are at -0.5 and width - 0.5."""
    return (np.asarray(loc) + 1.0) * width / 2.0 - 0.5


def plot_glimpse_paths(images, locations, size: int, labels: Sequence[int] | None = None,
                       predictions: Sequence[int] | None = None, cols: int = 6, axes=None):
    """One panel per image: the image, a numbered box for each glimpse (``size`` pixels wide) and the path
    between the glimpse centres. ``images`` (N, H, W), ``locations`` (N, T, 2) as (x, y) in [-1, 1]."""
    images, locations = np.asarray(images), np.asarray(locations)
    if images.ndim != 3 or locations.ndim != 3 or locations.shape[0] != images.shape[0]:
        raise ValueError(f"expected images (N, H, W) and locations (N, T, 2), got {images.shape} and {locations.shape}")
    N, H, W = images.shape
    if axes is None:
        rows = int(np.ceil(N / cols))
        fig, axes = plt.subplots(rows, min(cols, N), figsize=(1.9 * min(cols, N), 2.1 * rows), squeeze=False)
    axes = np.asarray(axes).ravel()
    colors = plt.cm.autumn(np.linspace(0, 0.85, locations.shape[1]))
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= N:
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        px, py = loc_to_pixels(locations[i, :, 0], W), loc_to_pixels(locations[i, :, 1], H)
        ax.plot(px, py, "-", color="#0072B2", lw=1.2, alpha=0.8)
        for t, (x, y) in enumerate(zip(px, py)):
            ax.add_patch(Rectangle((x - size / 2, y - size / 2), size, size, fill=False, lw=1.8, color=colors[t]))
            ax.text(x, y, str(t + 1), color=colors[t], ha="center", va="center", fontsize=11, fontweight="bold")
        ax.set_xlim(-0.5, W - 0.5)
        ax.set_ylim(H - 0.5, -0.5)
        if labels is not None:
            title = f"label {labels[i]}"
            if predictions is not None:
                title += f", said {predictions[i]}"
            wrong = predictions is not None and predictions[i] != labels[i]
            ax.set_title(title + (" ✗" if wrong else ""), fontsize=12, color=BAD if wrong else "black")
    return axes


def plot_glimpse_sequence(image, locations, patches, size: int, title: str = ""):
    """One image with its path (left) and, to its right, the patches the model saw, in order: what the recurrent
    core actually received. ``image`` (H, W), ``locations`` (T, 2), ``patches`` (T, size, size)."""
    patches = np.asarray(patches)
    T = len(patches)
    fig, axes = plt.subplots(1, T + 1, figsize=(1.9 * (T + 1), 2.2))
    plot_glimpse_paths(np.asarray(image)[None], np.asarray(locations)[None], size, axes=axes[:1])
    axes[0].set_title(title, fontsize=11)
    for t, ax in enumerate(axes[1:]):
        ax.imshow(patches[t], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"glimpse {t + 1}", fontsize=11)
        ax.axis("off")
    fig.tight_layout()
    return fig


def glimpse_widget(images, locations, patches, size: int, labels: Sequence[int], predictions: Sequence[int]):
    """A slider over the images: the path and the patches of the chosen one (``plot_glimpse_sequence``)."""
    import ipywidgets as widgets

    def show(i: int) -> None:
        plot_glimpse_sequence(images[i], locations[i], patches[i], size, f"label {labels[i]}, said {predictions[i]}")
        plt.show()

    return widgets.interact(show, i=widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image"))
