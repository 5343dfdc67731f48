"""Questions with answers about synthetic scenes (``rnnbook.data.scenes``), for visual question answering.

Four question types, generated from each scene's object list, each with a single correct answer:

    colour    "what colour is the square ?"             -> a colour      (asked when the shape is unique in the scene)
    shape     "what shape is the red object ?"          -> a shape       (asked when the colour is unique)
    relation  "what shape is left of the red circle ?"  -> a shape       (asked when exactly one object lies there)
    count     "how many circles are there ?"            -> zero .. three (a shape or a colour; half of them ask
                                                                           about one that is present)

"left of" compares grid columns (``Obj.col``), as the captions do. Answers are class indices into ``ANSWERS``;
questions are word indices into ``question_vocab()``, padded with <NULL> = 0. Each question keeps the index of
the object it is about (``target``; the object to find for relation questions; -1 for counting), so a chapter can
check where the model looked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnbook.data.scenes import COLORS, NUMBER_WORDS, SHAPES, Scenes

QUESTION_TYPES: tuple[str, ...] = ("colour", "shape", "relation", "count")
COUNT_WORDS: tuple[str, ...] = NUMBER_WORDS[:4]  # zero .. three
ANSWERS: tuple[str, ...] = (*COLORS, *SHAPES, *COUNT_WORDS)
PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "diamond": "diamonds"}


def question_vocab() -> tuple[dict[str, int], list[str]]:
    """The fixed vocabulary of the question grammar: <NULL> = 0, <UNK> = 1, then every word it can produce."""
    words = ["what", "colour", "shape", "is", "the", "object", "left", "right", "of", "how", "many", "are",
             "there", "?", "objects", *COLORS, *SHAPES, *PLURAL.values()]
    idx_to_word = ["<NULL>", "<UNK>", *dict.fromkeys(words)]
    return {w: i for i, w in enumerate(idx_to_word)}, idx_to_word


@dataclass
class Questions:
    """M questions about the images of one ``Scenes``.

    tokens (M, T) int64 word indices (<NULL>-padded); answers (M,) int64 into ``ANSWERS``; image_idx (M,) int64;
    qtype (M,) int64 into ``QUESTION_TYPES``; target (M,) int64 object slot the question is about (-1: none);
    texts: the questions as strings.
    """

    tokens: np.ndarray
    answers: np.ndarray
    image_idx: np.ndarray
    qtype: np.ndarray
    target: np.ndarray
    texts: list[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.answers)


def _questions_for(objs, rng: np.random.Generator) -> list[tuple[str, str, str, int]]:
    """(type, question, answer, target slot) for one scene; at most one question per type."""
    out = []
    shapes = [o.shape for o in objs]
    colors = [o.color for o in objs]
    unique_shape = [k for k, s in enumerate(shapes) if shapes.count(s) == 1]
    if unique_shape:
        k = int(rng.choice(unique_shape))
        out.append(("colour", f"what colour is the {shapes[k]} ?", colors[k], k))
    unique_color = [k for k, c in enumerate(colors) if colors.count(c) == 1]
    if unique_color:
        k = int(rng.choice(unique_color))
        out.append(("shape", f"what shape is the {colors[k]} object ?", shapes[k], k))
    relations = []
    for k, o in enumerate(objs):
        if [(p.color, p.shape) for p in objs].count((o.color, o.shape)) > 1:
            continue  # the reference must be unambiguous
        for side, test in (("left", lambda p: p.col < o.col), ("right", lambda p: p.col > o.col)):
            there = [j for j, p in enumerate(objs) if test(p)]
            if len(there) == 1:
                relations.append((side, k, there[0]))
    if relations:
        side, k, j = relations[int(rng.integers(len(relations)))]
        out.append(("relation", f"what shape is {side} of the {colors[k]} {shapes[k]} ?", shapes[j], j))
    if rng.random() < 0.5:
        attr = str(rng.choice(shapes + colors))  # something that is present
    else:
        attr = str(rng.choice(SHAPES + COLORS))
    if attr in SHAPES:
        n, text = shapes.count(attr), f"how many {PLURAL[attr]} are there ?"
    else:
        n, text = colors.count(attr), f"how many {attr} objects are there ?"
    out.append(("count", text, COUNT_WORDS[n], -1))
    return out


def make_questions(scenes: Scenes, seed: int = 0) -> Questions:
    """Up to one question of each type per scene (a type is skipped when the scene allows no unambiguous one).

    Deterministic by ``seed``. Raises ValueError for scenes with more than three objects (counts go to three).
    """
    if int(np.max(scenes.n_objects)) > len(COUNT_WORDS) - 1:
        raise ValueError(f"make_questions: scenes must have at most {len(COUNT_WORDS) - 1} objects, "
                         f"got {int(np.max(scenes.n_objects))}; use make_scenes(..., max_objects=3)")
    rng = np.random.default_rng(seed)
    rows = [(i, *q) for i, objs in enumerate(scenes.objects) for q in _questions_for(objs, rng)]
    word_to_idx, _ = question_vocab()
    texts = [r[2] for r in rows]
    T = max(len(t.split()) for t in texts)
    tokens = np.zeros((len(rows), T), dtype=np.int64)
    for m, t in enumerate(texts):
        ids = [word_to_idx.get(w, 1) for w in t.split()]
        tokens[m, :len(ids)] = ids
    answer_idx = {a: i for i, a in enumerate(ANSWERS)}
    return Questions(tokens=tokens,
                     answers=np.array([answer_idx[r[3]] for r in rows], dtype=np.int64),
                     image_idx=np.array([r[0] for r in rows], dtype=np.int64),
                     qtype=np.array([QUESTION_TYPES.index(r[1]) for r in rows], dtype=np.int64),
                     target=np.array([r[4] for r in rows], dtype=np.int64),
                     texts=texts)
