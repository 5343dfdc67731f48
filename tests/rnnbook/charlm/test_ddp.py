"""Tests of ``rnnbook.charlm.ddp``: data parallel training across processes (PyTorch DDP): ``torchrun --nproc_per_node=P
-m rnnbook.charlm train ...``."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnbook.charlm import train

from .tiny import TINY, TINY_ARGS, env, meta


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
