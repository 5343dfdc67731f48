"""Tests of ``rnnbook.data.text``: text corpora as Python strings, and the character vocabulary."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from rnnbook.data import Vocab, load_text, text

ROOT = Path(__file__).resolve().parents[3]


MIRROR = Path(os.environ.get("RNNBOOK_DATA") or ROOT.parent / "shared" / "data")  # as the Makefile sets it


# data/README.md of the course mirror: the 54 files concatenated in sorted path order
WHOLE_SHA256 = "6d3460921052e5c3dc6d919c9aec343548418db4cb47511f6115044ddd88ac7f"


def test_load_text_git_c_is_the_files_back_to_back(monkeypatch):
    if not (MIRROR / "git-builtin").is_dir():
        pytest.skip(f"no course mirror at {MIRROR} (set RNNBOOK_DATA or put it beside the checkout)")
    monkeypatch.setenv("RNNBOOK_DATA", str(MIRROR))
    text = load_text("git-c", progress=False)
    assert hashlib.sha256(text.encode()).hexdigest() == WHOLE_SHA256
    assert len(text.encode()) == 1_096_064 and text.startswith("/*") and "#include" in text and "\t" in text


def test_empty_and_non_utf8_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        text.read_text(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf".encode() + b"\xe9 au lait")
    with pytest.raises(ValueError, match=r"offset 3") as err:
        text.read_text(latin)
    assert "latin.txt" in str(err.value) and "0xe9" in str(err.value)
    with pytest.raises(FileNotFoundError):
        text.read_text(tmp_path / "missing.txt")


def test_vocab_is_sorted_and_round_trips():
    v = Vocab.from_text("hello")
    assert v.itos == ["e", "h", "l", "o"]
    ids = v.encode("hello")
    assert ids.tolist() == [1, 0, 2, 2, 3]
    assert v.decode(ids) == "hello"


def test_vocab_errors_are_clear():
    v = Vocab.from_text("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2"):
        v.encode("abz")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        v.decode([3])
    with pytest.raises(ValueError, match="empty"):
        Vocab.from_text("")


# --- bad input ------------------------------------------------------------------------------------------------


def test_vocab_decode_refuses_floats():
    vocab = Vocab.from_text("abc")
    with pytest.raises(TypeError, match="ids must be integer indices"):
        vocab.decode(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="ids must be integer indices"):
        vocab.decode([0, 1.5])
