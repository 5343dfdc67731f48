"""Tests of ``rnnbook.data.vqa``: questions with answers about synthetic scenes (``rnnbook.data.scenes``), for visual
question answering."""

import numpy as np
import pytest

from rnnbook.data.scenes import COLORS, SHAPES, make_scenes
from rnnbook.data.vqa import (
    ANSWERS,
    COUNT_WORDS,
    PLURAL,
    QUESTION_TYPES,
    make_questions,
    question_vocab,
)


def _answer(text: str, objs) -> str:
    """An independent reading of a question against the object list."""
    w = text.split()
    if text.startswith("what colour is the"):
        (o,) = [o for o in objs if o.shape == w[4]]
        return o.color
    if text.startswith("what shape is the"):
        (o,) = [o for o in objs if o.color == w[4]]
        return o.shape
    if text.startswith("what shape is"):
        side, color, shape = w[3], w[6], w[7]
        (ref,) = [o for o in objs if o.color == color and o.shape == shape]
        there = [o for o in objs if (o.col < ref.col if side == "left" else o.col > ref.col)]
        assert len(there) == 1
        return there[0].shape
    assert text.startswith("how many")
    if w[2] in COLORS:
        return COUNT_WORDS[sum(o.color == w[2] for o in objs)]
    shape = {v: k for k, v in PLURAL.items()}[w[2]]
    return COUNT_WORDS[sum(o.shape == shape for o in objs)]


def test_answers_agree_with_the_object_lists(data):
    scenes, q = data
    assert len(q) == len(q.texts) == len(q.tokens) == len(q.qtype) == len(q.target)
    for m in range(len(q)):
        objs = scenes.objects[q.image_idx[m]]
        assert ANSWERS[q.answers[m]] == _answer(q.texts[m], objs), q.texts[m]
        kind = QUESTION_TYPES[q.qtype[m]]
        if kind == "count":
            assert q.target[m] == -1
        else:
            target = objs[q.target[m]]
            assert ANSWERS[q.answers[m]] in (target.color, target.shape)


def test_every_type_is_asked_and_tokens_decode(data):
    scenes, q = data
    counts = np.bincount(q.qtype, minlength=len(QUESTION_TYPES))
    assert np.all(counts > 0.15 * len(scenes)), counts
    assert np.all(np.bincount(q.image_idx) <= len(QUESTION_TYPES))
    _, idx_to_word = question_vocab()
    for m in range(0, len(q), 37):
        words = [idx_to_word[t] for t in q.tokens[m] if t != 0]
        assert " ".join(words) == q.texts[m]
    assert np.all(q.tokens[:, 0] != 0)
    # counting questions about something present make non-zero counts common, but zero occurs too
    counts = q.answers[q.qtype == QUESTION_TYPES.index("count")]
    assert (counts == ANSWERS.index("zero")).mean() > 0.2 and (counts != ANSWERS.index("zero")).mean() > 0.4


def test_questions_are_deterministic_and_validate(data):
    scenes, q = data
    again = make_questions(scenes, seed=4)
    assert again.texts == q.texts and np.array_equal(again.answers, q.answers)
    with pytest.raises(ValueError):
        make_questions(make_scenes(20, seed=0, max_objects=5, min_objects=4))


def test_answers_and_vocab_cover_the_grammar():
    word_to_idx, idx_to_word = question_vocab()
    assert idx_to_word[0] == "<NULL>" and len(set(idx_to_word)) == len(idx_to_word)
    assert all(w in word_to_idx for w in (*COLORS, *SHAPES, *PLURAL.values()))
    assert len(set(ANSWERS)) == len(ANSWERS) == len(COLORS) + len(SHAPES) + 4
