"""Test-wide settings: no network, a fresh cache, and keeping what nbmake executed for the book build."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from queue import Empty

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


def _poll_kernel_replies_in_slices() -> None:
    """Make nbclient notice a kernel reply within a fraction of a second, not at the cell timeout.

    nbclient waits for a cell's reply with one ``await socket.poll(timeout)`` on the shell channel while another
    task polls the IOPub channel in the same event loop. Now and then (seen after cells that display widgets) the
    socket's edge-triggered wake-up is lost: the reply sits in the socket until the poll times out, and the
    chapter stalls for the whole cell timeout (300 s) before it goes on and passes (jupyter/nbclient#312). Polling
    in short slices re-checks the socket each time; the total timeout and the errors stay the same. Measured with
    600 quick cells, a third of them widgets, two notebooks at once: 6-7 stalls of the full timeout per run
    without this, none with it (ipykernel 7.4 and 6.31 alike).
    """
    from jupyter_client.channels import AsyncZMQSocketChannel

    if getattr(AsyncZMQSocketChannel.get_msg, "_rnnbook_sliced", False):
        return

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else min(POLL_SLICE, max(0.0, deadline - time.monotonic()))
            if await self.socket.poll(int(left * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    get_msg._rnnbook_sliced = True
    AsyncZMQSocketChannel.get_msg = get_msg


POLL_SLICE = 0.2  # seconds
_poll_kernel_replies_in_slices()
