"""The test harness's patch of jupyter_client (conftest.py): replies are still delivered, timeouts still raise."""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session


async def _pair_channel():
    ctx = zmq.asyncio.Context.instance()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    port = a.bind_to_random_port("tcp://127.0.0.1")
    b.connect(f"tcp://127.0.0.1:{port}")
    session = Session(key=b"test")
    return a, b, session, AsyncZMQSocketChannel(b, session)


def test_the_sliced_poll_is_installed():
    assert getattr(AsyncZMQSocketChannel.get_msg, "_rnnbook_sliced", False)


def test_a_reply_arriving_during_the_wait_is_returned_at_once():
    async def run():
        a, b, session, channel = await _pair_channel()
        loop = asyncio.get_running_loop()
        loop.call_later(0.5, lambda: session.send(a, "execute_reply", {"status": "ok"}))
        start = time.monotonic()
        msg = await channel.get_msg(timeout=30)
        a.close(linger=0), b.close(linger=0)
        return msg, time.monotonic() - start

    msg, waited = asyncio.run(run())
    assert msg["msg_type"] == "execute_reply" and msg["content"] == {"status": "ok"}
    assert waited < 10  # not the 30 s timeout


def test_no_reply_still_raises_empty_after_the_timeout():
    async def run():
        a, b, _, channel = await _pair_channel()
        start = time.monotonic()
        try:
            with pytest.raises(Empty):
                await channel.get_msg(timeout=0.5)
        finally:
            a.close(linger=0), b.close(linger=0)
        return time.monotonic() - start

    assert asyncio.run(run()) >= 0.5
