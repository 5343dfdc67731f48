"""Synthetic scenes for captioning and visual question answering: coloured shapes on a dark canvas.

A scene is an RGB image (3, S, S) with one to ``max_objects`` objects. Each object has a shape (``SHAPES``), a
colour (``COLORS``), a size (``SIZES``) and a position: objects sit in distinct cells of a 3 x 3 grid (with a
little jitter), so "left of" and "above" are never ambiguous. Objects are listed in *canonical order*: by grid
column, then by grid row (left to right, top to bottom); every array below uses that order.

Captions come from a small grammar, several phrasings per image, e.g. for two objects

    "a small red circle left of a large blue square"           (chain, canonical order)
    "a large blue square right of a small red circle"           (chain, reversed)
    "there are two shapes : a small red circle and a large blue square"   (list)

Between consecutive objects in canonical order the relation is "left of" when their grid columns differ and
"above" when they share a column (the reversed chain uses "right of" and "below").

Everything is numpy and vectorised: a few thousand 64 x 64 scenes take well under a second. The same seed gives
the same scenes, bit for bit. Words and captions become integer arrays with ``build_word_vocab``/``encode_captions``,
CS231n-style: ``<NULL>`` = 0 pads, ``<START>`` = 1, ``<END>`` = 2, ``<UNK>`` = 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond")
COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow", "magenta", "cyan")
SIZES: tuple[str, ...] = ("small", "large")
RGB: dict[str, tuple[float, float, float]] = {
    "red": (0.95, 0.15, 0.1), "green": (0.15, 0.8, 0.15), "blue": (0.2, 0.35, 1.0),
    "yellow": (0.95, 0.9, 0.1), "magenta": (0.9, 0.15, 0.9), "cyan": (0.1, 0.9, 0.95),
}
BACKGROUND: tuple[float, float, float] = (0.08, 0.08, 0.08)
GRID = 3  # objects sit in distinct cells of a GRID x GRID grid
RADIUS = {"small": 0.085, "large": 0.15}  # half-extent as a fraction of the image side S
RELATIONS = {"left of": "right of", "above": "below"}  # relation -> its inverse
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

NULL, START, END, UNK = "<NULL>", "<START>", "<END>", "<UNK>"
SPECIAL_TOKENS: tuple[str, ...] = (NULL, START, END, UNK)  # indices 0, 1, 2, 3


@dataclass(frozen=True)
class Obj:
    """One object of a scene: attribute names, centre (x right, y down, in pixels), half-extent r in pixels."""

    shape: str
    color: str
    size: str
    x: float
    y: float
    r: float
    row: int  # grid cell (0 = top)
    col: int  # grid cell (0 = left)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in pixels."""
        return (self.x - self.r, self.y - self.r, self.x + self.r, self.y + self.r)

    def phrase(self) -> str:
        """'a small red circle'."""
        return f"a {self.size} {self.color} {self.shape}"


@dataclass
class Scenes:
    """A batch of N scenes; K = max_objects; arrays follow the objects' canonical order, padding is -1 / False.

    images (N, 3, S, S) float32 in [0, 1]; masks (N, K, S, S) bool, one per object slot (all False when padded);
    valid (N, K) bool; n_objects (N,) int64; shape_ids / color_ids / size_ids (N, K) int64 indices into
    SHAPES / COLORS / SIZES (-1 when padded); centers (N, K, 2) float32 (x, y) pixels; cells (N, K, 2) int64
    (row, col); objects: N lists of ``Obj``; captions: N lists of phrasings (str, words separated by spaces).
    """

    images: np.ndarray
    masks: np.ndarray
    valid: np.ndarray
    n_objects: np.ndarray
    shape_ids: np.ndarray
    color_ids: np.ndarray
    size_ids: np.ndarray
    centers: np.ndarray
    cells: np.ndarray
    objects: list[list[Obj]] = field(repr=False)
    captions: list[list[str]] = field(repr=False)

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, idx: Sequence[int] | np.ndarray | slice) -> Scenes:
        """The scenes at ``idx`` (indices, boolean mask or slice), as a new ``Scenes``."""
        ids = np.arange(len(self))[idx]
        return Scenes(self.images[ids], self.masks[ids], self.valid[ids], self.n_objects[ids], self.shape_ids[ids],
                      self.color_ids[ids], self.size_ids[ids], self.centers[ids], self.cells[ids],
                      [self.objects[i] for i in ids], [self.captions[i] for i in ids])


def _shape_masks(kind: np.ndarray, cx: np.ndarray, cy: np.ndarray, r: np.ndarray, S: int) -> np.ndarray:
    """Boolean masks (M, S, S) of M shapes; pixel (i, j) has centre (j + 0.5, i + 0.5)."""
    c = np.arange(S, dtype=np.float32) + 0.5
    dx = c[None, None, :] - cx[:, None, None]  # (M, 1, S)
    dy = c[None, :, None] - cy[:, None, None]  # (M, S, 1)
    rr = r[:, None, None]
    out = np.empty((len(kind), S, S), dtype=bool)
    for k in np.unique(kind):
        m = kind == k
        x, y, q = np.abs(dx[m]), dy[m], rr[m]
        if k == 0:
            out[m] = x ** 2 + y ** 2 <= q ** 2
        elif k == 1:
            out[m] = (x <= 0.85 * q) & (np.abs(y) <= 0.85 * q)
        elif k == 2:
            out[m] = (np.abs(y) <= q) & (x <= 0.5 * (y + q))  # apex up, base 2r at the bottom
        else:
            out[m] = x + np.abs(y) <= 1.1 * q
    return out


def _captions(objs: list[Obj]) -> list[str]:
    """The phrasings of one scene, canonical chain first, then the reversed chain, then the list."""
    rels = ["left of" if b.col != a.col else "above" for a, b in zip(objs, objs[1:])]
    chain = [objs[0].phrase()]
    for rel, o in zip(rels, objs[1:]):
        chain += [rel, o.phrase()]
    back = [objs[-1].phrase()]
    for rel, o in zip(reversed(rels), reversed(objs[:-1])):
        back += [RELATIONS[rel], o.phrase()]
    n = len(objs)
    phrases = [o.phrase() for o in objs]
    if n == 1:
        listing = f"there is one shape : {phrases[0]}"
    else:
        listing = f"there are {NUMBER_WORDS[n]} shapes : " + " , ".join(phrases[:-1]) + f" and {phrases[-1]}"
    out = [" ".join(chain), listing]
    if n > 1:
        out.insert(1, " ".join(back))
    return out


def make_scenes(n: int, seed: int = 0, size: int = 64, max_objects: int = 3, min_objects: int = 1,
                noise: float = 0.0) -> Scenes:
    """Generate ``n`` scenes with ``min_objects``..``max_objects`` objects each (uniform), deterministic by ``seed``.

    size: image side S in pixels (>= 24); noise: std of Gaussian pixel noise added before clipping to [0, 1].
    Returns ``Scenes`` (see its docstring for every array and its shape).
    """
    if n < 1 or size < 24 or not 1 <= min_objects <= max_objects <= GRID * GRID:
        raise ValueError(f"make_scenes: need n >= 1, size >= 24 and 1 <= min_objects <= max_objects <= {GRID * GRID}; "
                         f"got n={n}, size={size}, min_objects={min_objects}, max_objects={max_objects}")
    rng = np.random.default_rng(seed)
    N, K, S = n, max_objects, size
    n_obj = rng.integers(min_objects, max_objects + 1, size=N)
    valid = np.arange(K)[None, :] < n_obj[:, None]
    cell_ids = np.argsort(rng.random((N, GRID * GRID)), axis=1)[:, :K]  # distinct cells
    shape_ids = rng.integers(0, len(SHAPES), size=(N, K))
    color_ids = rng.integers(0, len(COLORS), size=(N, K))
    size_ids = rng.integers(0, len(SIZES), size=(N, K))
    jitter = rng.uniform(-1.0, 1.0, size=(N, K, 2))
    # canonical order: valid first, then by column, then by row
    rows, cols = cell_ids // GRID, cell_ids % GRID
    key = np.where(valid, cols * GRID + rows, GRID * GRID + 1)
    order = np.argsort(key, axis=1, kind="stable")
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    rows, cols, shape_ids, color_ids, size_ids = map(take, (rows, cols, shape_ids, color_ids, size_ids))
    jitter = np.take_along_axis(jitter, order[..., None], axis=1)

    cell = S / GRID
    radius = np.array([RADIUS[s] for s in SIZES], dtype=np.float32)[size_ids] * S
    slack = np.maximum(cell / 2 - radius - 1.0, 0.0)
    cx = ((cols + 0.5) * cell + jitter[..., 0] * slack).astype(np.float32)
    cy = ((rows + 0.5) * cell + jitter[..., 1] * slack).astype(np.float32)

    masks = np.zeros((N, K, S, S), dtype=bool)
    flat = np.flatnonzero(valid)  # indices into the (N * K) object slots
    slots = masks.reshape(N * K, S, S)
    for s in range(0, len(flat), 4096):
        f = flat[s:s + 4096]
        i, k = np.divmod(f, K)
        slots[f] = _shape_masks(shape_ids[i, k], cx[i, k], cy[i, k], radius[i, k], S)

    palette = np.array([RGB[c] for c in COLORS], dtype=np.float32)  # (C, 3)
    bg = np.array(BACKGROUND, dtype=np.float32)
    obj_rgb = palette[np.where(valid, color_ids, 0)]  # (N, K, 3)
    images = np.empty((N, 3, S, S), dtype=np.float32)
    images[:] = bg[None, :, None, None]
    for k in range(K):  # objects never overlap (distinct cells): paint each where its mask is set
        for c in range(3):
            np.copyto(images[:, c], obj_rgb[:, k, c, None, None], where=masks[:, k])
    if noise > 0:
        images += rng.normal(0.0, noise, size=images.shape).astype(np.float32)
        np.clip(images, 0.0, 1.0, out=images)

    pad = lambda a: np.where(valid, a, -1).astype(np.int64)  # noqa: E731
    shape_ids, color_ids, size_ids, rows, cols = map(pad, (shape_ids, color_ids, size_ids, rows, cols))
    centers = np.where(valid[..., None], np.stack([cx, cy], axis=-1), -1.0).astype(np.float32)
    objects: list[list[Obj]] = []
    for i in range(N):
        objects.append([Obj(SHAPES[shape_ids[i, k]], COLORS[color_ids[i, k]], SIZES[size_ids[i, k]],
                            float(cx[i, k]), float(cy[i, k]), float(radius[i, k]), int(rows[i, k]), int(cols[i, k]))
                        for k in range(int(n_obj[i]))])
    captions = [_captions(objs) for objs in objects]
    return Scenes(images, masks, valid, n_obj.astype(np.int64), shape_ids, color_ids, size_ids, centers,
                  np.stack([rows, cols], axis=-1), objects, captions)


def split_scenes(scenes: Scenes, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, Scenes]:
    """Split into {'train', 'val', 'test'} by contiguous index ranges (scenes are i.i.d., so this is random)."""
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split_scenes: fractions must be three non-negative numbers summing to 1, got {fractions}")
    n = len(scenes)
    a = int(round(fractions[0] * n))
    b = a + int(round(fractions[1] * n))
    return {"train": scenes.subset(slice(0, a)), "val": scenes.subset(slice(a, b)), "test": scenes.subset(slice(b, n))}


def make_splits(n_train: int, n_val: int, n_test: int, seed: int = 0, **kwargs) -> dict[str, Scenes]:
    """Generate n_train + n_val + n_test scenes with ``make_scenes(..., seed, **kwargs)`` and split them in order."""
    total = n_train + n_val + n_test
    scenes = make_scenes(total, seed=seed, **kwargs)
    return {"train": scenes.subset(slice(0, n_train)), "val": scenes.subset(slice(n_train, n_train + n_val)),
            "test": scenes.subset(slice(n_train + n_val, total))}


# ---------------------------------------------------------------------------------------------- vocabulary
def tokenize(sentence: str) -> list[str]:
    """Lower-case whitespace tokenisation (the scene grammar already separates punctuation)."""
    return sentence.lower().split()


def build_word_vocab(sentences: Iterable[str], min_count: int = 1) -> tuple[dict[str, int], list[str]]:
    """(word_to_idx, idx_to_word) with <NULL>=0, <START>=1, <END>=2, <UNK>=3, then words seen >= min_count times,
    most frequent first (ties alphabetical)."""
    counts = Counter(w for s in sentences for w in tokenize(s))
    words = sorted((w for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS),
                   key=lambda w: (-counts[w], w))
    idx_to_word = list(SPECIAL_TOKENS) + words
    return {w: i for i, w in enumerate(idx_to_word)}, idx_to_word


def scene_vocab() -> tuple[dict[str, int], list[str]]:
    """The vocabulary of every word the scene grammar can produce (independent of the data drawn)."""
    words = ["a", "there", "is", "are", "shape", "shapes", ":", ",", "and", "left", "right", "of", "above", "below",
             *NUMBER_WORDS[1:GRID * GRID + 1], *SIZES, *COLORS, *SHAPES]
    idx_to_word = list(SPECIAL_TOKENS) + list(dict.fromkeys(words))
    return {w: i for i, w in enumerate(idx_to_word)}, idx_to_word


def encode_captions(sentences: Sequence[str], word_to_idx: dict[str, int], max_length: int | None = None) -> np.ndarray:
    """Captions -> (N, T) int64: <START> w1 .. wL <END> then <NULL> padding; unknown words -> <UNK>.

    T = max_length + 2 when given (longer captions are cut, keeping <END>), else the longest caption + 2.
    """
    toks = [tokenize(s) for s in sentences]
    L = max((len(t) for t in toks), default=0) if max_length is None else max_length
    out = np.full((len(toks), L + 2), word_to_idx[NULL], dtype=np.int64)
    unk = word_to_idx[UNK]
    for i, t in enumerate(toks):
        ids = [word_to_idx.get(w, unk) for w in t[:L]]
        out[i, 0] = word_to_idx[START]
        out[i, 1:len(ids) + 1] = ids
        out[i, len(ids) + 1] = word_to_idx[END]
    return out


def decode_captions(captions: np.ndarray, idx_to_word: Sequence[str]) -> list[str] | str:
    """(N, T) or (T,) ints -> strings; skips <NULL>/<START>, stops at <END> (CS231n's decode_captions)."""
    arr = np.asarray(captions)
    single = arr.ndim == 1
    out = []
    for row in np.atleast_2d(arr):
        words = []
        for t in row:
            w = idx_to_word[int(t)]
            if w == END:
                break
            if w not in (NULL, START):
                words.append(w)
        out.append(" ".join(words))
    return out[0] if single else out


def caption_pairs(scenes: Scenes, word_to_idx: dict[str, int], max_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every (caption, image) pair, like CS231n's COCO arrays: captions (M, T) int64 and image_idxs (M,) int64."""
    sentences = [c for caps in scenes.captions for c in caps]
    image_idxs = np.array([i for i, caps in enumerate(scenes.captions) for _ in caps], dtype=np.int64)
    return encode_captions(sentences, word_to_idx, max_length), image_idxs


def max_caption_length(max_objects: int = 3) -> int:
    """Words in the longest phrasing of a scene with ``max_objects`` objects (the list: 'there are k shapes :' + 5k - 1)."""
    return 4 + 5 * max_objects


def parse_caption(caption: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The objects (size, color, shape) and relations a grammar caption mentions, in order; unknown bits are skipped.

    'a small red circle left of a large blue square' -> ([('small', 'red', 'circle'), ('large', 'blue', 'square')],
    ['left of']).
    """
    words = tokenize(caption)
    objs, rels, i = [], [], 0
    while i < len(words):
        if words[i] == "a" and i + 3 < len(words) and words[i + 1] in SIZES:
            objs.append((words[i + 1], words[i + 2], words[i + 3]))
            i += 4
        elif words[i] == "above" or words[i] == "below":
            rels.append(words[i])
            i += 1
        elif words[i] in ("left", "right") and i + 1 < len(words) and words[i + 1] == "of":
            rels.append(f"{words[i]} of")
            i += 2
        else:
            i += 1
    return objs, rels


def diagnose_caption(caption: str, objects: Sequence[Obj]) -> str:
    """One sentence on what a generated caption gets wrong about a scene (counts, attributes, relations)."""
    said, rels = parse_caption(caption)
    truth = [(o.size, o.color, o.shape) for o in objects]
    problems = []
    if len(said) != len(truth):
        problems.append(f"it mentions {len(said)} object(s) but the scene has {len(truth)}")
    remaining = list(truth)
    for s in said:
        if s in remaining:
            remaining.remove(s)
            continue
        if not remaining:
            problems.append(f"'{' '.join(s)}' is not in the scene")
            continue
        best = max(remaining, key=lambda t: sum(a == b for a, b in zip(s, t)))
        remaining.remove(best)
        wrong = [f"{kind} {a} instead of {b}" for kind, a, b in zip(("size", "colour", "shape"), s, best) if a != b]
        problems.append(f"'{' '.join(s)}' has the {', '.join(wrong)}")
    if not problems:
        pos = {(o.size, o.color, o.shape): o for o in objects}
        for a, rel, b in zip(said, rels, said[1:]):
            oa, ob = pos.get(a), pos.get(b)
            if oa is None or ob is None:
                continue
            holds = {"left of": oa.x < ob.x, "right of": oa.x > ob.x, "above": oa.y < ob.y, "below": oa.y > ob.y}[rel]
            if not holds:
                problems.append(f"'{' '.join(a)} {rel} {' '.join(b)}' is false")
            elif rel in ("left of", "right of") and oa.col == ob.col or rel in ("above", "below") and oa.col != ob.col:
                problems.append(f"'{rel}' is true but the grammar would say "
                                f"{'above/below' if oa.col == ob.col else 'left/right of'} for these two")
    if not problems:
        return "the objects and relations are right; only the wording or order differs from every reference"
    return "; ".join(problems)
