"""Tests of ``rnnbook.charlm.__main__``: the command line: ``python -m rnnbook.charlm train|sample|eval`` (also
installed as ``rnnbook-charlm``)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnbook.charlm import CharLMError, sample
from rnnbook.charlm.__main__ import main

from .tiny import TINY_ARGS, env, meta, unigram_nats

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
