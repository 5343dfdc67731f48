"""Data parallel training across processes (PyTorch DDP): ``torchrun --nproc_per_node=P -m rnnbook.charlm train ...``.

The batch of B contiguous rows is shared out: process r reads rows r*B/P .. (r+1)*B/P - 1 of the same streams and
carries their hidden state. After each backward pass DDP averages the gradients over the processes; every process
then clips and steps the same weights. Each process's loss is the mean over B/P rows of equal length, so the mean of
the P losses is the loss of the whole batch: P processes follow the curve of one process with the same B.
Gloo carries the averages between CPU processes, NCCL between GPUs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    started_here: bool = False  # this module called init_process_group (and so tears it down)

    @property
    def main(self) -> bool:
        return self.rank == 0


def start(device: str) -> World:
    """Join the process group torchrun describes in the environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    started = False
    if not dist.is_initialized():
        if device.startswith("cuda"):
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
        started = True
    return World(rank, size, local, started)


def stop(world: World) -> None:
    if world.started_here and dist.is_initialized():
        dist.destroy_process_group()


def rows(world: World, batch: int) -> slice:
    """This process's share of the ``batch`` rows."""
    share = batch // world.size
    return slice(world.rank * share, (world.rank + 1) * share)


def mean(value: float, world: World, device) -> float:
    """The mean of ``value`` over the processes (the loss of the whole batch)."""
    if world.size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t) / world.size


def gather_rows(state, world: World):
    """The carried state of the whole batch: each process's rows (dim 1), in rank order."""
    if world.size == 1 or state is None:
        return state
    if isinstance(state, tuple):
        return tuple(gather_rows(s, world) for s in state)
    state = state.detach().contiguous()
    parts = [torch.empty_like(state) for _ in range(world.size)]
    dist.all_gather(parts, state)
    return torch.cat(parts, dim=1)


def shard_rows(state, world: World, batch: int):
    """This process's rows of a whole-batch state (the inverse of ``gather_rows``)."""
    if world.size == 1 or state is None:
        return state
    if isinstance(state, (tuple, list)):
        return tuple(shard_rows(s, world, batch) for s in state)
    return state[:, rows(world, batch)].contiguous()


def clock(offset: float, world: World, device) -> Callable[[], float]:
    """Seconds since the run began (``offset`` seconds before this call). Across processes the slowest one's time,
    so that all of them follow the same schedule and stop at the same update."""
    t0 = time.perf_counter()

    def now() -> float:
        elapsed = offset + time.perf_counter() - t0
        if world.size == 1:
            return elapsed
        t = torch.tensor([elapsed], dtype=torch.float64, device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t)

    return now
