"""Tests of ``rnnbook.models.vqa``: visual question answering with an RNN and attention (Zhu et al. 2016, Visual7W; Yang
et al.'s stacked attention)."""

import pytest
import torch

from rnnbook.data.vqa import ANSWERS
from rnnbook.models.attention import GridEncoder
from rnnbook.models.vqa import QuestionEncoder, VQAModel


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
