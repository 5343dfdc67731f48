"""Checkpoints: weights, optimizer state, step, carried hidden state and RNG state, written so that loading one
can never run code (``torch.load(..., weights_only=True)``), and checked against the model on load."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class CheckpointError(ValueError):
    """A file that is not an rnnbook checkpoint, or one written for another model, optimizer or batch size."""


def _about(model: nn.Module, optimizer: torch.optim.Optimizer | None, meta: dict) -> dict:
    """What a checkpoint needs to be checked on load: model kind and sizes, optimizer, vocabulary, version."""
    from rnnbook import __version__

    sizes = {k: getattr(model, k) for k in ("vocab_size", "hidden", "layers", "cell")
             if isinstance(getattr(model, k, None), (int, str))}  # plain values only: weights_only must load it
    return {"model": type(model).__name__, "sizes": sizes,
            "optimizer": type(optimizer).__name__ if optimizer is not None else None,
            "vocab_size": getattr(model, "vocab_size", None), "rnnbook": __version__,
            "batch_size": meta.get("batch_size")}


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    step: int = 0, state=None, **meta) -> Path:
    """Save weights, optimizer state, step, carried hidden state and RNG state: tensors and plain Python only,
    so that ``load_checkpoint`` can read it with ``torch.load(..., weights_only=True)``.

    ``meta`` (plain values, e.g. ``vocab="..."``) is stored as is. The entry ``"rnnbook"`` records what
    ``load_checkpoint`` checks: the model's class and sizes, the optimizer's class, the vocabulary size, the batch
    size (``meta["batch_size"]`` when given) and the rnnbook version.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = ([s.detach() for s in state] if isinstance(state, tuple)
             else state.detach() if isinstance(state, torch.Tensor) else state)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer else None,
                "step": int(step), "state": state,
                "rng": torch.get_rng_state(), "meta": meta, "rnnbook": _about(model, optimizer, meta)}, path)
    return path


def _not_a_checkpoint(path: Path, why: str) -> CheckpointError:
    return CheckpointError(
        f"{path} is not a checkpoint written by rnnbook's save_checkpoint ({why}). Pass the path of a file that "
        "train_lm(checkpoint=...) or save_checkpoint wrote. Never load a file you do not trust with "
        "torch.load(..., weights_only=False): unpickling it can run any code the file holds.")


def _check_compatible(path: Path, ckpt: dict, model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
    about = ckpt.get("rnnbook") if isinstance(ckpt.get("rnnbook"), dict) else {}
    if about.get("model") and about["model"] != type(model).__name__:
        raise CheckpointError(f"{path} holds a {about['model']}, but model is a {type(model).__name__}; "
                              f"load it into a {about['model']} built with the same sizes {about.get('sizes', {})}")
    mine = about.get("sizes", {})
    here = {k: getattr(model, k) for k in mine if hasattr(model, k)}
    if mine and here != mine:
        diff = ", ".join(f"{k}={mine[k]!r} (model: {here.get(k)!r})" for k in mine if here.get(k) != mine[k])
        raise CheckpointError(f"{path} was written for a model with {diff}; build the model with the "
                              "checkpoint's sizes (the vocabulary of the text it was trained on) to load it")
    saved, wanted = ckpt["model"], model.state_dict()
    missing, extra = sorted(set(wanted) - set(saved)), sorted(set(saved) - set(wanted))
    shapes = [f"{k} is {tuple(saved[k].shape)} in the checkpoint, {tuple(v.shape)} in the model"
              for k, v in wanted.items() if k in saved and tuple(saved[k].shape) != tuple(v.shape)]
    if missing or extra or shapes:
        parts = ([f"missing weights {missing[:4]}"] if missing else []) + (
            [f"unexpected weights {extra[:4]}"] if extra else []) + shapes[:4]
        raise CheckpointError(f"{path} does not fit model: {'; '.join(parts)}. Build the model with the sizes the "
                              "checkpoint was trained with")
    kind = about.get("optimizer")
    if optimizer is not None and ckpt.get("optimizer") is not None:
        if kind and kind != type(optimizer).__name__:
            raise CheckpointError(f"{path} was trained with the optimizer {kind}, but optimizer is a "
                                  f"{type(optimizer).__name__}; resume with optimizer={kind.lower()!r}, or start "
                                  "afresh (resume=False)")


def load_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    map_location: str | torch.device | None = None) -> dict:
    """Load a checkpoint written by ``save_checkpoint`` into ``model`` (and ``optimizer``); return the dict.

    ``weights_only=True``: the file can only hold tensors and plain containers, never code to run. A file that is
    not such a checkpoint (a text file, a pickle, a bare ``state_dict``) and one written for another model class,
    other sizes or another optimizer raise ``CheckpointError`` saying what differs; another rnnbook version is
    only a warning.
    """
    import pickle
    import warnings

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train with checkpoint={str(path)!r} first")
    device = map_location or next(model.parameters()).device
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, AttributeError, ImportError,
            TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _not_a_checkpoint(path, f"torch.load refused it: {first[:160]}") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "step" not in ckpt:
        what = (f"a {type(ckpt).__name__}" if not isinstance(ckpt, dict)
                else "a dict of tensors, a bare state_dict? Load that with model.load_state_dict(torch.load(path, "
                     "weights_only=True))" if ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values())
                else f"a dict without 'model' and 'step', keys {sorted(map(str, ckpt))[:6]}")
        raise _not_a_checkpoint(path, f"it holds {what}")
    _check_compatible(path, ckpt, model, optimizer)
    about = ckpt.get("rnnbook") or {}
    from rnnbook import __version__

    if about.get("rnnbook") not in (None, __version__):
        warnings.warn(f"{path} was written by rnnbook {about['rnnbook']}, this is {__version__}", stacklevel=2)
    model.load_state_dict(ckpt["model"])
    if optimizer is not None and ckpt.get("optimizer") is not None:
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
        except (KeyError, ValueError) as err:
            raise CheckpointError(f"{path}: the optimizer's saved state does not fit optimizer "
                                  f"{type(optimizer).__name__} ({type(err).__name__}: {err}); resume with the "
                                  "optimizer and parameters the checkpoint was trained with, or start afresh "
                                  "(resume=False)") from None
    if isinstance(ckpt.get("state"), list):
        ckpt["state"] = tuple(ckpt["state"])
    return ckpt
