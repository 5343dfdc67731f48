"""Seeds, device, scale and BLAS threads: what the setup cell of every chapter calls, and the one place that sets
how many threads numpy's BLAS may use (through ``threadpoolctl``)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Literal, NamedTuple

import numpy as np

Scale = Literal["ci", "full"]
SCALES: tuple[str, ...] = ("ci", "full")


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, numpy's (legacy global and default) and torch's generators.

    With a seed, two CPU runs of a chapter give bit-for-bit the same numbers.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # numpy-only use of the package
        return
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def available_devices() -> list[str]:
    """The devices torch can use on this machine: ``cpu``, then ``cuda``, ``cuda:0``, ... and ``mps`` when present."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def check_device(device, source: str = "device") -> str:
    """Return ``device`` (a str or ``torch.device``) as a string when torch can use it here; else a ValueError that
    names ``source`` (the argument or variable it came from) and lists the available devices."""
    import torch

    name = str(device) if isinstance(device, torch.device) else device
    available = available_devices()
    if isinstance(name, str) and name in available:
        return name
    if not isinstance(name, str):
        raise TypeError(f"{source} must be a device name such as 'cpu' or 'cuda' (a str or torch.device), "
                        f"got {type(device).__name__}")
    hint = f" (did you mean {name.strip().lower()!r}?)" if name.strip().lower() in available else ""
    why = " torch sees no CUDA GPU on this machine;" if name.lower().startswith("cuda") else ""
    raise ValueError(f"{source}={name!r} is not a device torch can use here{hint};{why} available devices: "
                     f"{', '.join(available)}. Use one of them (or unset RNNBOOK_DEVICE to let rnnbook choose).")


def get_device(prefer: str | None = None) -> str:
    """Return ``"cuda"`` when a GPU is present (or ``prefer`` says so), else ``"cpu"``.

    ``$RNNBOOK_DEVICE`` overrides the choice (e.g. ``RNNBOOK_DEVICE=cpu`` on a GPU machine); an empty variable
    counts as unset. A device torch cannot use here (``tpu``, ``CPU``, ``cuda`` without a GPU) is a ValueError
    that lists the available ones.
    """
    import torch

    if prefer is not None:
        return check_device(prefer, "prefer")
    choice = os.environ.get("RNNBOOK_DEVICE", "").strip()
    if choice:
        return check_device(choice, "RNNBOOK_DEVICE")
    return "cuda" if torch.cuda.is_available() else "cpu"


def get_scale(default: Scale = "ci") -> Scale:
    """Read the scale knob ``$RNNBOOK_SCALE``: ``ci`` (default, the tested size) or ``full``."""
    scale = os.environ.get("RNNBOOK_SCALE", default).strip().lower()
    if scale not in SCALES:
        raise ValueError(f"RNNBOOK_SCALE must be one of {SCALES}, got {scale!r}")
    return scale  # type: ignore[return-value]


class Setup(NamedTuple):
    seed: int
    device: str
    scale: Scale


def get_seed(default: int = 0) -> int:
    """Read the seed knob ``$RNNBOOK_SEED`` (an int; ``default`` when unset): every chapter's seed."""
    raw = os.environ.get("RNNBOOK_SEED", "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"RNNBOOK_SEED must be an integer such as 0, 1 or 2, got {raw!r}") from None


def setup(seed: int | None = None) -> Setup:
    """Seed everything (``seed``, or ``$RNNBOOK_SEED``, or 0), pick the device and read the scale; print one line
    that says so."""
    if seed is None:
        seed = get_seed()
    seed_everything(seed)
    device, scale = get_device(), get_scale()
    print(f"rnnbook: seed={seed} device={device} scale={scale}")
    return Setup(seed, device, scale)


@lru_cache(maxsize=1)
def _threadpools():
    """The thread pools of the native libraries loaded so far (found once: the lookup walks the loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Run the block with numpy's BLAS (OpenBLAS, MKL, ...) limited to ``n`` threads (``None``: leave it alone);
    then restore what it was. Through ``threadpoolctl``, so it works whichever BLAS numpy loaded.

    Small products (a 32 x 100 by 100 x 100 matrix product per step of min-char-rnn's batched twin) gain nothing
    from more threads: on cores shared with other work, threads that wait for each other cost more than they save.
    """
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"blas_threads: n must be a number of threads >= 1 (or None to leave BLAS alone), got {n!r}")
    with _threadpools().limit(limits=int(n), user_api="blas"):
        yield
