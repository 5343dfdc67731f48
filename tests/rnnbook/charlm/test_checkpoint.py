"""Tests of ``rnnbook.charlm.checkpoint``: a run's checkpoints: written atomically (a temporary file, then
``os.replace``), read with clear errors."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from rnnbook.charlm import CharLMError, evaluate_file, sample, train
from rnnbook.models.charlm import CharLM
from rnnbook.train.checkpoint import save_checkpoint

from .tiny import TINY


def test_checkpoints_of_other_kinds_and_versions(run_dir, tmp_path):
    plain = tmp_path / "plain"
    save_checkpoint(plain / "best.pt", CharLM(10, hidden=8))  # a checkpoint of chapter 4's loop: no kind
    with pytest.raises(CharLMError, match="not a character model saved by rnnbook.charlm.*kind is None"):
        sample(plain)
    ckpt = torch.load(run_dir / "best.pt", weights_only=True)
    for key, value, message in [("format", 99, "format 99.*reads format 1"),
                                ("kind", "rnnbook.transformer", "kind is 'rnnbook.transformer'")]:
        bad = tmp_path / key
        bad.mkdir()
        torch.save({**ckpt, "meta": {**ckpt["meta"], key: value}}, bad / "best.pt")
        with pytest.raises(CharLMError, match=message):
            sample(bad)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "best.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CharLMError, match="not a readable checkpoint"):
        evaluate_file(garbage, run_dir / "best.pt")
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "best.pt").write_bytes((run_dir / "best.pt").read_bytes()[:5000])
    with pytest.raises(CharLMError, match="not a readable checkpoint"):
        sample(truncated)
    with pytest.raises(CharLMError, match="no run folder"):
        sample(tmp_path / "nowhere")


def test_full_disk_keeps_the_previous_checkpoint(text_file, tmp_path, monkeypatch):
    """The disk fills while the checkpoint of update 20 is written: the error says so, last.pt is still the whole
    checkpoint of update 10, and no partial file is left."""
    real_save, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) <= 2:  # last.pt and best.pt at update 10
            return real_save(obj, f, *args, **kwargs)
        Path(f).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", save)
    out = tmp_path / "run"
    with pytest.raises(CharLMError, match="No space left on device.*previous checkpoint is kept"):
        train(text_file, out, steps=20, progress=False, **TINY)
    monkeypatch.setattr(torch, "save", real_save)
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "last.pt"]
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 10
    # the same failure on the first write leaves nothing behind
    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(CharLMError, match="no checkpoint was left behind"):
        train(text_file, tmp_path / "run2", steps=20, progress=False, **TINY)
    assert list((tmp_path / "run2").iterdir()) == []
