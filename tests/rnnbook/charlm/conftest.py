"""Fixtures of the char-rnn tool's tests: a generated text file and one tiny trained run, made once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnbook.charlm import train

from .tiny import TINY, make_text


@pytest.fixture(scope="module")
def text_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "words.txt"
    path.write_text(make_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(text_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    train(text_file, out, steps=40, progress=False, device="cpu", **TINY)
    return out
