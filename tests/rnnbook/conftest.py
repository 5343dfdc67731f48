"""Fixtures shared by the tests of several rnnbook modules: the tinyshakespeare text, a small two-layer LSTM CharLM, and
a seeded set of VQA scenes and questions."""

from __future__ import annotations

import pytest
import torch

from rnnbook.data import load_text
from rnnbook.data.scenes import make_scenes
from rnnbook.data.vqa import make_questions
from rnnbook.models.charlm import CharLM


@pytest.fixture(scope="module")
def lstm():
    torch.manual_seed(0)
    return CharLM(7, hidden=6, layers=2, embed_dim=5).eval()


@pytest.fixture(scope="module")
def shakespeare() -> str:
    return load_text("tinyshakespeare", progress=False)


@pytest.fixture(scope="module")
def data():
    scenes = make_scenes(300, seed=3)
    return scenes, make_questions(scenes, seed=4)
