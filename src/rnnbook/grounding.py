"""Where did the model look? Object masks on the attention grid, per-cell labels, and grounding scores.

For a word that names an object (its colour or its shape) generated at step t with attention alpha_t over the L
cells of the grid, and the set M of cells the object's mask touches:

    mass = sum_{i in M} alpha_ti                 (share of attention on the object)
    peak = [argmax_i alpha_ti in M]              (does the attention peak on it?)

The uniform baseline (alpha_ti = 1/L) scores mass = |M| / L, and a peak drawn at random lands in M with the same
probability |M| / L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.data.scenes import COLORS, SHAPES, SIZES, Scenes


def grid_coverage(masks: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Masks (N, K, S, S) bool -> share of every grid cell each object covers, (N, K, L) with L = rows * cols.

    Cells are in row-major order, like the encoder's locations. S must be a multiple of the grid size.
    """
    masks = np.asarray(masks)
    if masks.ndim != 4:
        raise ValueError(f"masks must be (N, K, S, S), got shape {masks.shape}")
    N, K, H, W = masks.shape
    gh, gw = grid
    if H % gh or W % gw:
        raise ValueError(f"image size {H}x{W} is not a multiple of the grid {gh}x{gw}")
    cells = masks.reshape(N, K, gh, H // gh, gw, W // gw).mean(axis=(3, 5), dtype=np.float32)
    return cells.reshape(N, K, gh * gw)


def cell_labels(scenes: Scenes, grid: tuple[int, int] = (8, 8), min_cover: float = 0.25) -> dict[str, np.ndarray]:
    """Per-cell classes (N, L) for 'color', 'shape' and 'size': 0 = background, else 1 + the attribute's index.

    A cell takes the attributes of the object covering most of it, when that object covers >= ``min_cover``.
    """
    cover = grid_coverage(scenes.masks, grid)  # (N, K, L)
    best = cover.argmax(axis=1)  # (N, L)
    present = np.take_along_axis(cover, best[:, None], axis=1)[:, 0] >= min_cover
    out = {}
    for name, ids in (("color", scenes.color_ids), ("shape", scenes.shape_ids), ("size", scenes.size_ids)):
        out[name] = np.where(present, np.take_along_axis(ids, best, axis=1) + 1, 0).astype(np.int64)
    return out


def referred_objects(words: list[str], objects: list) -> list[tuple[int, int]]:
    """(word position, object slot) for every colour or shape word whose noun phrase names exactly one object.

    A noun phrase is the run of size/colour/shape words ending at a shape word ("small red circle"); the object is
    the one of ``objects`` (``rnnbook.data.scenes.Obj``) whose attributes match all of them. Phrases that match no
    object (a hallucination) or several are skipped.
    """
    out, phrase = [], []
    for pos, w in enumerate(words):
        if w in SIZES or w in COLORS or w in SHAPES:
            phrase.append((pos, w))
        else:
            phrase = []
            continue
        if w in SHAPES:
            said = [x for _, x in phrase]
            match = [k for k, o in enumerate(objects)
                     if all(x in (o.size, o.color, o.shape) for x in said)
                     and sum(x in SIZES for x in said) <= 1 and sum(x in COLORS for x in said) <= 1]
            if len(match) == 1:
                out += [(p, match[0]) for p, x in phrase if x in COLORS or x in SHAPES]
            phrase = []
    return out


@dataclass
class Grounding:
    """Grounding scores over all grounded words: attention ``mass`` and ``peak``-in-mask rate, and the uniform
    baseline's values for the same words; ``n_words`` grounded words; ``skipped`` colour/shape words that could not
    be tied to exactly one object."""

    mass: float
    peak: float
    uniform_mass: float
    uniform_peak: float
    n_words: int
    skipped: int


def grounding_scores(tokens: np.ndarray, alphas: np.ndarray, scenes: Scenes, idx_to_word: list[str],
                     grid: tuple[int, int] = (8, 8)) -> Grounding:
    """Score generated captions: tokens (N, T) (without <START>), alphas (N, T, L) the attention used for each word.

    For every colour/shape word tied to one object (``referred_objects``), the object's cells are those its mask
    touches (coverage > 0).
    """
    tokens, alphas = np.asarray(tokens), np.asarray(alphas)
    if tokens.shape != alphas.shape[:2] or len(tokens) != len(scenes):
        raise ValueError(f"tokens (N, T) and alphas (N, T, L) must agree with {len(scenes)} scenes; "
                         f"got {tokens.shape} and {alphas.shape}")
    inside = grid_coverage(scenes.masks, grid) > 0  # (N, K, L)
    L = inside.shape[2]
    mass, peak, umass, n_named = [], [], [], 0
    for n in range(len(tokens)):
        words = [idx_to_word[int(t)] for t in tokens[n]]
        if "<END>" in words:
            words = words[:words.index("<END>")]
        n_named += sum(w in COLORS or w in SHAPES for w in words)
        for pos, k in referred_objects(words, scenes.objects[n]):
            cells = inside[n, k]
            mass.append(float(alphas[n, pos][cells].sum()))
            peak.append(bool(cells[int(np.argmax(alphas[n, pos]))]))
            umass.append(cells.sum() / L)
    if not mass:
        return Grounding(float("nan"), float("nan"), float("nan"), float("nan"), 0, n_named)
    return Grounding(float(np.mean(mass)), float(np.mean(peak)), float(np.mean(umass)), float(np.mean(umass)),
                     len(mass), n_named - len(mass))
