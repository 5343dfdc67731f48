"""nbclient sometimes misses a kernel's reply and waits the whole cell timeout: poll in short slices instead.

Used by the tests (conftest.py) and by every tool that executes chapters (claims_seeds, colab_check, full_scale).
"""

from __future__ import annotations

import time
from queue import Empty

POLL_SLICE = 0.2  # seconds


def poll_kernel_replies_in_slices() -> None:
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

