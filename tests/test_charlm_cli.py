"""The char-rnn tool: `python -m rnnbook.charlm train|sample|eval`, exact resume, data-parallel equivalence, bad input.

Every run here is tiny (32 units, batches of 8 rows of 16 characters, tens of updates) on a generated text, so each
test takes seconds.
"""

from __future__ import annotations

import errno
import math
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnbook.train
from rnnbook.charlm import CharLMError, evaluate_file, sample, train
from rnnbook.charlm.__main__ import main
from rnnbook.models.charlm import CharLM
from rnnbook.train.checkpoint import save_checkpoint

SRC = Path(__file__).resolve().parents[1] / "src"
TINY = dict(hidden=32, embed=16, batch=8, k=16, eval_every=10)
TINY_ARGS = ["--hidden", "32", "--embed", "16", "--batch", "8", "--k", "16", "--eval-every", "10"]


def make_text(lines: int = 700, seed: int = 0) -> str:
    """Sentences drawn from a dozen words: a text with structure a small model learns in a few updates."""
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "big", "red", "house"]
    return "".join(" ".join(rng.choice(words, size=rng.integers(3, 8))) + ".\n" for _ in range(lines))


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


def env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "OMP_NUM_THREADS": "1",
            "RNNBOOK_DEVICE": "cpu"}


def meta(path: Path) -> dict:
    return torch.load(path, weights_only=True)["meta"]


def unigram_nats(train_text: str, val_text: str) -> float:
    """Cross-entropy of the validation text under the training text's character frequencies (add-one)."""
    chars = sorted(set(train_text) | set(val_text))
    counts = np.array([train_text.count(c) + 1 for c in chars], dtype=float)
    p = dict(zip(chars, counts / counts.sum()))
    return float(-np.mean([math.log(p[c]) for c in val_text]))


# --- the three commands ------------------------------------------------------------------------------------------


def test_train_command(text_file, tmp_path):
    """`python -m rnnbook.charlm train` as a user runs it: progress bar, validation lines, two loadable checkpoints."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "rnnbook.charlm", "train", str(text_file), "--out", str(out),
                           "--steps", "40", *TINY_ARGS], capture_output=True, text=True, env=env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "chars/s" in proc.stderr and "loss" in proc.stderr  # the progress bar
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("update ")]
    assert len(lines) == 4 and all("nats/char" in ln and "bits/char" in ln and "perplexity" in ln for ln in lines)
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "last.pt"]  # no temporary file left behind
    last = torch.load(out / "last.pt", weights_only=True)
    m = last["meta"]
    assert last["step"] == 40 and len(m["losses"]) == 40 and [v[0] for v in m["val"]] == [10, 20, 30, 40]
    assert m["vocab"] == "".join(sorted(set(text_file.read_text()))) and m["settings"]["hidden"] == 32
    nats = [v[1] for v in m["val"]]
    assert meta(out / "best.pt")["best"] == [10 * (1 + int(np.argmin(nats))), min(nats)]
    # It learned: below a model of character frequencies alone, which is what a net that ignores context can reach.
    text = text_file.read_text()
    cut = int(0.9 * len(text))
    assert min(nats) < unigram_nats(text[:cut], text[cut:]) - 0.3


def test_sample_command(run_dir, capsys):
    assert main(["sample", str(run_dir), "--prime", "the ", "--length", "80", "--seed", "1"]) == 0
    first = capsys.readouterr().out[:-1]  # print's newline
    assert first.startswith("the ") and len(first) == 4 + 80
    assert set(first) <= set(meta(run_dir / "best.pt")["vocab"])
    main(["sample", str(run_dir), "--prime", "the ", "--length", "80", "--seed", "1"])
    assert capsys.readouterr().out[:-1] == first  # a seed gives the same text
    main(["sample", str(run_dir), "--prime", "the ", "--length", "80", "--seed", "2", "--temperature", "1.5"])
    assert capsys.readouterr().out[:-1] != first
    greedy = [sample(run_dir, "the ", 40, top_k=1, seed=s) for s in (1, 2)]
    assert greedy[0] == greedy[1]  # top-1 leaves nothing to chance


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_two_processes_match_one(text_file, tmp_path):
    """torchrun, two CPU processes on Gloo, each reading 4 of the 8 rows: the loss curve of one process with the
    whole batch, to float tolerance (gradients are averaged in another order)."""
    train(text_file, tmp_path / "one", steps=30, progress=False, device="cpu", **TINY)
    args = ["train", str(text_file), "--steps", "30", *TINY_ARGS, "--quiet", "--device", "cpu"]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=2",
                          "--master-addr=127.0.0.1", f"--master-port={free_port()}", "-m", "rnnbook.charlm", *args,
                          "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, env={**env(), "GLOO_SOCKET_IFNAME": "lo"}, timeout=180)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = meta(tmp_path / "one" / "last.pt"), meta(tmp_path / "two" / "last.pt")
    assert b["world_size"] == 2 and len(a["losses"]) == len(b["losses"]) == 30
    np.testing.assert_allclose(b["losses"], a["losses"], rtol=1e-4)
    np.testing.assert_allclose([v[1] for v in b["val"]], [v[1] for v in a["val"]], rtol=1e-4)
    assert a["losses"][-1] < a["losses"][0] - 0.5  # the curves compared are curves of learning
    # the carried state of the whole batch is saved, so a 2-process run resumes in one process
    last = torch.load(tmp_path / "two" / "last.pt", weights_only=True)
    assert tuple(last["state"][0].shape) == (1, 8, 32)


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


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such text file") and "Traceback" not in err


def test_prime_with_unseen_characters(run_dir, capsys):
    assert main(["sample", str(run_dir), "--prime", "ROMEO: the"]) == 2
    err = capsys.readouterr().err
    for c in "ROME:":
        assert repr(c) in err  # each unseen character named
    assert "'t'" not in err.split("never saw")[1].split("Its vocabulary")[0]  # seen ones are not
    with pytest.raises(CharLMError, match="at least one character"):
        sample(run_dir, "")


def test_eval_text_with_unseen_characters(run_dir, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("the cat sat on the mat. Zebra!\n" * 20, encoding="utf-8")
    with pytest.raises(CharLMError, match=r"2 character\(s\).*'!' x20.*--skip-unknown"):
        evaluate_file(run_dir, other)
    assert evaluate_file(run_dir, other, skip_unknown=True).count == len("the cat sat on the mat. ebra\n") * 20 - 1


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


def test_unwritable_out(text_file, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(CharLMError, match="cannot write to the output folder.*--out"):
        train(text_file, blocker / "run", steps=5, progress=False, **TINY)


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
