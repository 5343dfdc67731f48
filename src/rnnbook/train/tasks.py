"""The trainers of the book's tasks, each a loss on a seeded minibatch handed to ``rnnbook.train.fit``.

Models (``rnnbook.models``) say what a network computes; this module says what it is trained on: which batch each
step draws, which loss, which learning rate and schedule. Every trainer goes through ``fit``, so every one clips,
checks that the loss stays finite and watches for divergence in the same way. Truncated BPTT on a stream is
``rnnbook.tbptt.train_lm``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnbook.data.scenes import Scenes
from rnnbook.data.sequences import look_back_targets, look_back_tokens
from rnnbook.data.translation import Pairs
from rnnbook.grounding import cell_labels
from rnnbook.models.attention import GridEncoder
from rnnbook.models.captioner import Captioner
from rnnbook.models.glimpse import GlimpseClassifier
from rnnbook.models.self_attention import LookBack
from rnnbook.models.seq2seq import Seq2Seq, seq2seq_loss
from rnnbook.train import DivergenceWatch, History, fit


def train_captioner(model: Captioner, images: torch.Tensor, captions: torch.Tensor, image_idxs: torch.Tensor,
                    steps: int, batch_size: int = 64, lr: float = 2e-3, seed: int = 0, progress: bool = True,
                    desc: str = "captioner", clip_norm: float = 5.0, final_lr_fraction: float = 0.05) -> History:
    """Teacher forcing with Adam; each step draws ``batch_size`` (caption, image) pairs; cosine learning-rate decay
    from ``lr`` to ``final_lr_fraction * lr``; gradient clipping; ``DivergenceError`` on a NaN/inf loss.

    images (I, 3, S, S) float (or (I, D) features with ``PrecomputedFeatures``); captions (M, T) long;
    image_idxs (M,) long, the image of each caption. Returns a ``rnnbook.train.History`` (loss per step).
    """
    if len(captions) != len(image_idxs):
        raise ValueError(f"train_captioner: captions ({len(captions)}) and image_idxs ({len(image_idxs)}) differ in "
                         "length; give the image of every caption")
    if steps < 1:
        raise ValueError(f"train_captioner: steps must be >= 1, got {steps}")
    gen = torch.Generator().manual_seed(seed)
    dev = next(model.parameters()).device

    def step_loss(step: int) -> Tensor:
        b = torch.randint(0, len(captions), (min(batch_size, len(captions)),), generator=gen)
        return model.loss(images[image_idxs[b]].to(dev), captions[b].to(dev))

    return fit(model, step_loss, steps, lr, "adam", clip_norm, None, progress, desc,
               params=[p for p in model.parameters() if p.requires_grad], schedule="cosine",
               final_lr=final_lr_fraction, watch=DivergenceWatch())


class _EncoderWithHeads(nn.Module):
    """The grid encoder and one linear head per attribute, trained together (the heads are then dropped)."""

    def __init__(self, encoder: GridEncoder, classes: dict[str, int]):
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict({name: nn.Linear(encoder.out_dim, k) for name, k in classes.items()})


def pretrain_encoder(encoder: GridEncoder, images: Tensor, labels: dict[str, Tensor], steps: int = 150,
                     batch_size: int = 64, lr: float = 1e-2, seed: int = 0, progress: bool = True) -> list[float]:
    """Pretrain the grid encoder to name what lies in every cell: one linear head per attribute, cross-entropy summed.

    images (N, 3, H, W); labels {name: (N, L) int64 class per cell, 0 = background}. The stand-in for ImageNet
    pretraining: afterwards each a_i says which colour, shape and size sit in cell i. Adam without clipping (the
    summed cross-entropy of freshly initialised heads is small and smooth), with the finite and divergence checks
    of ``fit``. Returns the loss per step. The encoder is left in eval mode.
    """
    if not labels:
        raise ValueError("labels must name at least one attribute, e.g. {'color': (N, L) tensor}")
    for name, lab in labels.items():
        if lab.shape[0] != images.shape[0] or lab.dim() != 2:
            raise ValueError(f"labels[{name!r}] must be (N, L) with N = {images.shape[0]}, got {tuple(lab.shape)}")
    both = _EncoderWithHeads(encoder, {name: int(lab.max()) + 1 for name, lab in labels.items()})
    gen = torch.Generator().manual_seed(seed)

    def step_loss(step: int) -> Tensor:
        idx = torch.randint(0, images.shape[0], (batch_size,), generator=gen)
        a = encoder(images[idx])
        return sum(F.cross_entropy(head(a).flatten(0, 1), labels[name][idx].flatten())
                   for name, head in both.heads.items())

    return fit(both, step_loss, steps, lr, "adam", None, None, progress, "pretrain encoder",
               watch=DivergenceWatch()).loss


def pretrain_grid_encoder(scenes: Scenes, steps: int, seed: int = 0, progress: bool = True,
                          **options) -> tuple[GridEncoder, list[float]]:
    """A ``GridEncoder`` initialised from ``seed`` and pretrained (``pretrain_encoder``, batches drawn with the same
    ``seed``) to name the colour, shape and size in every cell of ``scenes`` (``rnnbook.grounding.cell_labels``).

    Chapters 9 and 9b both start from it. Returns (encoder in eval mode, loss per step); ``options`` go to
    ``pretrain_encoder`` (``batch_size``, ``lr``).
    """
    labels = {k: torch.from_numpy(v) for k, v in cell_labels(scenes).items()}
    torch.manual_seed(seed)
    encoder = GridEncoder()
    losses = pretrain_encoder(encoder, torch.from_numpy(scenes.images), labels, steps=steps, seed=seed,
                              progress=progress, **options)
    return encoder, losses


def train_glimpse(model: GlimpseClassifier, x: torch.Tensor, y: torch.Tensor, steps: int, batch_size: int = 64,
                  lr: float = 1e-2, seed: int = 0, progress: bool = True, desc: str = "glimpses") -> History:
    """Cross-entropy of the class after the last glimpse, on minibatches of images x (N, H, W) and classes y (N,)
    drawn with a seeded generator; Adam, gradient norm clipped to 1."""
    gen = torch.Generator().manual_seed(seed)

    def step_loss(step: int) -> Tensor:
        idx = torch.randint(len(y), (batch_size,), generator=gen)
        return F.cross_entropy(model(x[idx])[0], y[idx])

    return fit(model, step_loss, steps, lr=lr, clip_norm=1.0, progress=progress, desc=desc, watch=DivergenceWatch())


def train_seq2seq(model: Seq2Seq, batch: Callable[[int], Pairs], steps: int, lr: float = 3e-3,
                  device: str | torch.device = "cpu", progress: bool = True, desc: str = "seq2seq") -> History:
    """Minimise ``seq2seq_loss`` (teacher forcing) on ``batch(step)`` (a fresh ``Pairs`` per step); Adam, gradient
    norm clipped to 1."""
    model.to(device)
    return fit(model, lambda step: seq2seq_loss(model, batch(step), device), steps, lr=lr, clip_norm=1.0,
               progress=progress, desc=desc, watch=DivergenceWatch())


def train_look_back(heads: int, vocab: int = 8, d_model: int = 32, T: int = 8, steps: int = 400, batch: int = 128,
                    lr: float = 1e-2, seed: int = 0, progress: bool = False) -> tuple[LookBack, list[float]]:
    """Train ``LookBack`` with ``heads`` heads: cross-entropy of both read-outs at t >= 2, on fresh tokens
    (``look_back_tokens``) every step; Adam, no clipping (a two-layer model on a well-posed task).
    Returns (model, loss per step)."""
    torch.manual_seed(seed)
    model = LookBack(vocab, d_model, heads, T)
    gen = torch.Generator().manual_seed(seed)

    def step_loss(step: int) -> Tensor:
        x = look_back_tokens(gen, batch, vocab, T)
        return sum(F.cross_entropy(logits[:, 2:].reshape(-1, vocab), target.reshape(-1))
                   for logits, target in zip(model(x), look_back_targets(x)))

    history = fit(model, step_loss, steps, lr=lr, clip_norm=None, progress=progress, desc=f"{heads} head(s)")
    return model, history.loss
