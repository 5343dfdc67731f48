"""A run's checkpoints: written atomically (a temporary file, then ``os.replace``), read with clear errors.

A checkpoint is ``rnnbook.train.checkpoint.save_checkpoint``'s dict (weights, optimizer, step, carried state, torch RNG)
whose ``meta`` says what it is (``kind``, ``format``), the vocabulary, the settings and the history so far.
It holds tensors and plain Python only, so it is read with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from rnnbook.train.checkpoint import save_checkpoint

KIND = "rnnbook.charlm"  # what wrote the file
FORMAT = 1  # bump when the layout of the dict changes; older files are then refused with a clear message


class CharLMError(Exception):
    """Bad input to the char-rnn tool: the message says what was wrong and what to do."""


def write_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int, state,
                     meta: dict) -> Path:
    """Write ``path`` so that it is either the old file or the whole new one, never half of it.

    The checkpoint goes to a temporary file beside ``path``, which then replaces ``path`` in one step (``os.replace``
    is atomic on one file system). If writing fails (full disk, no permission), the temporary file is removed, the
    previous checkpoint is kept, and ``CharLMError`` says why.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_checkpoint(tmp, model, optimizer, step, state, kind=KIND, format=FORMAT, **meta)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:  # torch.save reports a failed write as a RuntimeError
        tmp.unlink(missing_ok=True)
        try:
            free = f"{shutil.disk_usage(path.parent).free / 1e6:.1f} MB free there"
        except OSError:
            free = "free space unknown"
        kept = "the previous checkpoint is kept" if path.exists() else "no checkpoint was left behind"
        reason = getattr(err, "strerror", None) or str(err).splitlines()[0]
        raise CharLMError(f"could not write the checkpoint {path} ({reason}; {free}); {kept}. "
                          "Free some space or choose another --out folder.") from err
    return path


def read_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint of this tool, refusing files of another program, another kind of model or another format."""
    path = Path(path)
    if not path.is_file():
        raise CharLMError(f"no checkpoint at {path}: train a model first with "
                          f"`python -m rnnbook.charlm train INPUT.txt --out {path.parent}`")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # a truncated file, a pickle of arbitrary objects, something else entirely
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CharLMError(f"{path} is not a readable checkpoint ({first[:200]}); it may be truncated or written by "
                          "another program. Train again, or point at the folder of a finished run.") from None
    meta = ckpt.get("meta") if isinstance(ckpt, dict) else None
    kind = meta.get("kind") if isinstance(meta, dict) else None
    if kind != KIND:
        raise CharLMError(f"{path} is not a character model saved by rnnbook.charlm (its kind is {kind!r}, expected "
                          f"{KIND!r}); train one with `python -m rnnbook.charlm train INPUT.txt --out DIR`.")
    if meta.get("format") != FORMAT:
        raise CharLMError(f"{path} was written in checkpoint format {meta.get('format')!r} by rnnbook "
                          f"{meta.get('rnnbook', '?')}; this rnnbook reads format {FORMAT}. Train the model again, "
                          f"or install the rnnbook version that wrote it.")
    if isinstance(ckpt.get("state"), list):
        ckpt["state"] = tuple(ckpt["state"])
    return ckpt
