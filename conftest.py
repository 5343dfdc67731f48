"""Test-wide settings: no network, a fresh cache, and keeping what nbmake executed for the book build."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest

# Tests run as two pytest-xdist workers on a 2-core machine, each starting notebook kernels: one OpenMP/BLAS thread
# per process, sleeping when idle, or the threads fight and chapters run 5-10x slower. This is the one place that
# sets it, for `make test` and a plain `pytest` alike (kernels inherit this environment); a value already in the
# environment wins.
for _name, _value in (("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"), ("OMP_WAIT_POLICY", "PASSIVE")):
    os.environ.setdefault(_name, _value)

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Unit tests never reach the network: any attempt to connect fails loudly."""

    def guard(*args, **kwargs):
        raise OSError("network access attempted during a unit test")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)


def _keep_executed_notebooks() -> None:
    """Wrap nbmake's runner so that every chapter it executes without error is saved to _build/executed/."""
    try:
        from nbmake.nb_run import NotebookRun
    except ImportError:  # nbmake not installed: nothing to keep
        return
    if getattr(NotebookRun.execute, "_rnnbook_keeps", False):
        return
    original = NotebookRun.execute

    def execute(self):
        start = time.perf_counter()
        result = original(self)
        if result.error is None:
            result.nb.metadata.setdefault("rnnbook", {})["execution_seconds"] = round(time.perf_counter() - start, 1)
            EXECUTED.mkdir(parents=True, exist_ok=True)
            nbformat.write(result.nb, EXECUTED / Path(self.filename).name)
        return result

    execute._rnnbook_keeps = True
    NotebookRun.execute = execute


_keep_executed_notebooks()


sys.path.insert(0, str(ROOT / "tools"))
from kernel_poll import poll_kernel_replies_in_slices  # noqa: E402

poll_kernel_replies_in_slices()
