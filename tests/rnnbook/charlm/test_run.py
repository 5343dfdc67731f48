"""Tests of ``rnnbook.charlm.run``: train a character model on a text file, sample from it, score another text: what the
command line calls."""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest
import torch

import rnnbook.train
from rnnbook.charlm import CharLMError, evaluate_file, train
from rnnbook.charlm.__main__ import main
from rnnbook.models.charlm import CharLM

from .tiny import TINY, make_text, meta


def test_samples_start_after_a_passage_of_training_text(run_dir, text_file):
    """The model reads a passage of its training text (ending at a line break) before the prime, not zeros."""
    from rnnbook.charlm.run import context

    text = text_file.read_text()
    ctx = meta(run_dir / "best.pt")["context"]
    assert 200 <= len(ctx) <= 256 and ctx.endswith("\n") and ctx in text[: int(0.9 * len(text))]
    assert context("xab\n\ncd\nef", 3) == "b\n\n" and context("ab\ncd", 9) == "ab\n" and context("abc", 2) == "bc"


def test_eval_command(run_dir, text_file, tmp_path, capsys):
    """Lower loss on text like the training text than on the same characters shuffled; the three units agree."""
    shuffled = tmp_path / "shuffled.txt"
    chars = list(make_text(lines=200, seed=1))
    np.random.default_rng(0).shuffle(chars)
    shuffled.write_text("".join(chars), encoding="utf-8")
    similar = tmp_path / "similar.txt"
    similar.write_text(make_text(lines=200, seed=1), encoding="utf-8")
    assert main(["eval", str(run_dir), str(similar)]) == 0
    line = capsys.readouterr().out
    found = re.search(r": ([\d.]+) nats/char = ([\d.]+) bits/char, perplexity ([\d.]+)", line)
    nats, bits, ppl = map(float, found.groups())
    assert bits == pytest.approx(nats / math.log(2), abs=2e-4) and ppl == pytest.approx(math.exp(nats), abs=0.01)
    assert evaluate_file(run_dir, similar).nats < evaluate_file(run_dir, shuffled).nats - 0.2


# --- resume and data parallel ------------------------------------------------------------------------------------


def test_resume_is_exact(text_file, tmp_path, monkeypatch):
    """Interrupted after update 25 (last checkpoint at 20) and resumed: the same losses, validations and weights as
    an uninterrupted run. Dropout between two layers makes the RNG state matter too."""
    settings = dict(TINY, layers=2, dropout=0.2, steps=40, progress=False, device="cpu")
    whole = train(text_file, tmp_path / "whole", **settings)

    real_update, calls = rnnbook.train.update, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 26:
            raise KeyboardInterrupt
        return real_update(*args, **kwargs)

    monkeypatch.setattr(rnnbook.train, "update", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(text_file, tmp_path / "cut", **settings)
    monkeypatch.setattr(rnnbook.train, "update", real_update)
    assert torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["step"] == 20
    shutil.copytree(tmp_path / "cut", tmp_path / "control")

    resumed = train(None, tmp_path / "cut", resume=True, progress=False, device="cpu")
    assert resumed.steps == 40 and len(resumed.losses) == 40
    assert resumed.losses == whole.losses  # bit for bit on a CPU
    assert [(s, e.nats) for s, e in resumed.val] == [(s, e.nats) for s, e in whole.val]
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    # the control: the same run from update 20 without the saved RNG state (dropout masks) does not match
    ckpt = torch.load(tmp_path / "control" / "last.pt", weights_only=True)
    ckpt["rng"] = torch.Generator().manual_seed(123).get_state()
    torch.save(ckpt, tmp_path / "control" / "last.pt")
    other = train(None, tmp_path / "control", resume=True, progress=False, device="cpu")
    assert other.losses[20:] != whole.losses[20:]


def test_time_budget_follows_the_clock(text_file, tmp_path):
    """train_lm's clock hook: a clock that advances one second per reading stops a 5-second budget after 5 updates,
    and the learning rate follows that clock (linear decay: 1 - t/5 after a warm-up of 0)."""
    from rnnbook.data import Vocab
    from rnnbook.tbptt import text_stream, train_lm

    text = text_file.read_text()
    vocab = Vocab.from_text(text)
    ticks, lrs = iter(range(100)), []
    model = CharLM(len(vocab), hidden=16)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    hist = train_lm(model, text_stream(vocab.encode(text), 4, 8), time_budget=5, lr=0.01, optimizer=opt,
                    schedule="linear", clock=lambda: float(next(ticks)), progress=False, device="cpu",
                    on_update=lambda step, h, state: lrs.append(opt.param_groups[0]["lr"]))
    assert hist.steps == 5 and len(hist.loss) == 5
    np.testing.assert_allclose(lrs, [0.01 * (1 - t / 5) for t in range(5)])
    run = train(text_file, tmp_path / "run", minutes=0.01, progress=False, device="cpu", **TINY)  # 0.6 s
    assert run.steps >= 1 and meta(tmp_path / "run" / "last.pt")["settings"]["minutes"] == 0.01


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"the cat sat.\n" * 3, "too short: 39 characters.*--batch 8 and --k 16"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100, "not UTF-8 text: byte 0x89 at offset 0"),
    (b"text\x00with\x00nul" * 500, "NUL bytes.*binary"),
])
def test_bad_text(tmp_path, content, message):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    with pytest.raises(CharLMError, match=message):
        train(path, tmp_path / "run", steps=5, progress=False, **TINY)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_eval_text_with_unseen_characters(run_dir, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("the cat sat on the mat. Zebra!\n" * 20, encoding="utf-8")
    with pytest.raises(CharLMError, match=r"2 character\(s\).*'!' x20.*--skip-unknown"):
        evaluate_file(run_dir, other)
    assert evaluate_file(run_dir, other, skip_unknown=True).count == len("the cat sat on the mat. ebra\n") * 20 - 1


def test_unwritable_out(text_file, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(CharLMError, match="cannot write to the output folder.*--out"):
        train(text_file, blocker / "run", steps=5, progress=False, **TINY)


def test_runs_are_not_overwritten_or_mixed(run_dir, text_file, tmp_path):
    with pytest.raises(CharLMError, match="already holds a run.*--resume"):
        train(text_file, run_dir, steps=5, progress=False, **TINY)
    with pytest.raises(CharLMError, match="--hidden 64 differs from the run's 32"):
        train(None, run_dir, resume=True, hidden=64, progress=False)
    other = tmp_path / "other.txt"
    other.write_text(make_text(seed=5), encoding="utf-8")
    with pytest.raises(CharLMError, match="not the text this run was trained on"):
        train(other, run_dir, resume=True, steps=50, progress=False)
    with pytest.raises(CharLMError, match="no checkpoint at"):
        train(None, tmp_path / "empty", resume=True, progress=False)
