"""Tests of the VQA questions (answers re-derived from the object lists) and of the VQA model and its baselines."""

import numpy as np
import pytest
import torch

from rnnbook.data.scenes import COLORS, SHAPES, make_scenes
from rnnbook.data.vqa import ANSWERS, COUNT_WORDS, PLURAL, QUESTION_TYPES, make_questions, question_vocab
from rnnbook.metrics import accuracy_by_type
from rnnbook.models.attention import GridEncoder
from rnnbook.models.vqa import QuestionEncoder, VQAModel


@pytest.fixture(scope="module")
def data():
    scenes = make_scenes(300, seed=3)
    return scenes, make_questions(scenes, seed=4)


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


def test_accuracy_by_type(data):
    _, q = data
    acc = accuracy_by_type(q.answers, q)
    assert all(v == 1.0 for v in acc.values()) and set(acc) == {*QUESTION_TYPES, "all"}
    wrong = q.answers.copy()
    wrong[q.qtype == 0] = (wrong[q.qtype == 0] + 1) % len(ANSWERS)
    acc = accuracy_by_type(wrong, q)
    assert acc["colour"] == 0.0 and acc["shape"] == 1.0
    assert np.isclose(acc["all"], 1 - np.mean(q.qtype == 0))
    with pytest.raises(ValueError):
        accuracy_by_type(q.answers[:-1], q)


def test_question_encoder_reads_up_to_the_last_word():
    torch.manual_seed(0)
    enc = QuestionEncoder(20, null_idx=0, wordvec_dim=4, hidden_dim=6)
    qs = torch.tensor([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]])
    out = enc(qs)
    with torch.no_grad():
        full, _ = enc.lstm(enc.embed(qs[:1, :3]))
    torch.testing.assert_close(out[0], full[0, -1])
    with pytest.raises(ValueError):
        enc(torch.tensor([1, 2, 3]))


@pytest.mark.parametrize("mode", ["full", "question", "image"])
def test_model_modes(mode):
    torch.manual_seed(0)
    model = VQAModel(30, len(ANSWERS), 0, mode=mode, hidden_dim=16, attn_dim=8, encoder=GridEncoder((4, 8, 8)))
    images, qs = torch.rand(3, 3, 64, 64), torch.randint(1, 30, (3, 7))
    scores = model(images, qs)
    assert scores.shape == (3, len(ANSWERS))
    scores.sum().backward()
    if mode == "full":
        assert model.last_alphas.shape == (3, 2, 64)
        torch.testing.assert_close(model.last_alphas.sum(-1), torch.ones(3, 2))
        # annotations computed beforehand give the same scores
        with torch.no_grad():
            model.eval()
            torch.testing.assert_close(model(images, qs), model(model.encoder(images), qs))
    if mode == "question":  # the image must not matter
        torch.testing.assert_close(model(images, qs), model(torch.rand(3, 3, 64, 64), qs))
    if mode == "image":  # the question must not matter
        model.eval()
        torch.testing.assert_close(model(images, qs), model(images, torch.randint(1, 30, (3, 7))))


def test_model_validates():
    with pytest.raises(ValueError):
        VQAModel(30, 5, 0, mode="both")
    with pytest.raises(ValueError):
        VQAModel(30, 5, 0, glimpses=0)


def test_answers_and_vocab_cover_the_grammar():
    word_to_idx, idx_to_word = question_vocab()
    assert idx_to_word[0] == "<NULL>" and len(set(idx_to_word)) == len(idx_to_word)
    assert all(w in word_to_idx for w in (*COLORS, *SHAPES, *PLURAL.values()))
    assert len(set(ANSWERS)) == len(ANSWERS) == len(COLORS) + len(SHAPES) + 4
