"""The lecture's image captioner in PyTorch: a CNN that sees, an RNN that speaks.

A CNN encoder turns the image into a vector v (N, D). The decoder is an RNN or LSTM over word vectors, conditioned
on v in one or both of the lecture's two ways:

    "inject": v enters every step through its own weights,  h_t = tanh(Wxh x_t + Whh h_{t-1} + Wih v)
              (implemented by feeding [x_t ; v] to the cell, whose input weights are then [Wxh | Wih]);
    "init":   v sets the initial state,                     h_0 = W_proj v + b_proj   (CS231n's CaptioningRNN);
    "both":   both.

Training is teacher forcing (the input at step t is the true word t - 1); test time decodes greedily or with beam
search. Captions are (N, T) int tensors in the ``rnnbook.data.scenes`` format: <START> words <END> <NULL>...
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Condition = Literal["inject", "init", "both"]


class ConvEncoder(nn.Module):
    """A small CNN for 32-128 px images: stride-2 3x3 convolutions + ReLU, then a linear map of the flattened map.

    Flattening (not global average pooling) keeps *where* things are, which "left of" / "above" need; ``grid``
    first takes the maximum of the map over grid x grid cells (the scenes' layout), a strong prior that trains fast.
    images (N, 3, S, S) -> v (N, feature_dim); ``feature_map`` gives the last map (N, C, S', S') for attention.
    """

    def __init__(self, image_size: int = 64, feature_dim: int = 256, channels: tuple[int, ...] = (16, 32, 64, 64),
                 grid: int | None = None, batchnorm: bool = True) -> None:
        super().__init__()
        layers, c_in, s = [], 3, image_size
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1)] + ([nn.BatchNorm2d(c)] if batchnorm else []) + [nn.ReLU()]
            c_in, s = c, (s + 1) // 2
        if grid is not None:  # max over each cell of a grid x grid layout: "is there a ... in this cell"
            layers.append(nn.AdaptiveMaxPool2d(grid))
            s = grid
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in * s * s, feature_dim)
        self.image_size, self.feature_dim = image_size, feature_dim

    def feature_map(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[-1] != self.image_size:
            raise ValueError(f"ConvEncoder: images must be (N, 3, {self.image_size}, {self.image_size}), got {tuple(images.shape)}")
        return self.conv(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.feature_map(images).flatten(1)))


class ResNetEncoder(nn.Module):
    """A torchvision ResNet-18 trunk (global pooled 512-d features) and a linear map to ``feature_dim``.

    ``pretrained=True`` loads the ImageNet weights (a download of ~45 MB the first time, into torch's cache);
    the default builds random weights and touches no network. ``freeze`` stops gradients into the trunk.
    Images are expected in [0, 1]; they are normalised with the ImageNet mean/std inside.
    """

    def __init__(self, feature_dim: int = 256, pretrained: bool = False, freeze: bool = True) -> None:
        super().__init__()
        from torchvision.models import ResNet18_Weights, resnet18

        net = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1 if pretrained else None)
        self.trunk = nn.Sequential(*list(net.children())[:-1])  # everything but the classifier
        if freeze:
            for p in self.trunk.parameters():
                p.requires_grad_(False)
        self.fc = nn.Linear(512, feature_dim)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.feature_dim = feature_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.trunk((images - self.mean) / self.std).flatten(1)))


class PrecomputedFeatures(nn.Module):
    """An 'encoder' for features computed once beforehand (``rnnbook.data.captions.extract_features``): v = x."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.feature_dim = feature_dim

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 2 or features.shape[1] != self.feature_dim:
            raise ValueError(f"PrecomputedFeatures: expected (N, {self.feature_dim}) features, got {tuple(features.shape)}")
        return features


class Captioner(nn.Module):
    """Encoder + word embedding + RNN/LSTM decoder + vocabulary scores.

    vocab_size V, wordvec_dim W, hidden_dim H, cell "rnn" | "lstm", condition "inject" | "init" | "both".
    ``forward(images, captions_in)`` -> scores (N, T, V) with teacher forcing.
    """

    def __init__(self, vocab_size: int, encoder: nn.Module | None = None, wordvec_dim: int = 64, hidden_dim: int = 256,
                 cell: str = "lstm", condition: Condition = "both", image_size: int = 64,
                 null_idx: int = 0, start_idx: int = 1, end_idx: int = 2) -> None:
        super().__init__()
        if cell not in {"rnn", "lstm"}:
            raise ValueError(f'Captioner: cell must be "rnn" or "lstm", got {cell!r}')
        if condition not in {"inject", "init", "both"}:
            raise ValueError(f'Captioner: condition must be "inject", "init" or "both", got {condition!r}')
        self.encoder = encoder if encoder is not None else ConvEncoder(image_size=image_size)
        D = self.encoder.feature_dim
        self.cell, self.condition = cell, condition
        self.null_idx, self.start_idx, self.end_idx = null_idx, start_idx, end_idx
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        inject = condition in {"inject", "both"}
        rnn_cls = nn.LSTM if cell == "lstm" else nn.RNN
        self.rnn = rnn_cls(wordvec_dim + (D if inject else 0), hidden_dim, batch_first=True)
        self.proj = nn.Linear(D, hidden_dim) if condition in {"init", "both"} else None
        self.out = nn.Linear(hidden_dim, vocab_size)
        self.hidden_dim, self.vocab_size = hidden_dim, vocab_size

    # -- pieces ---------------------------------------------------------------------------------------------
    def init_state(self, v: torch.Tensor):
        """h_0 = W_proj v + b_proj ("init"/"both") or zeros ("inject"); c_0 = 0 for the LSTM."""
        N = v.shape[0]
        h0 = self.proj(v) if self.proj is not None else v.new_zeros(N, self.hidden_dim)
        h0 = h0.unsqueeze(0)
        return (h0, torch.zeros_like(h0)) if self.cell == "lstm" else h0

    def decode(self, v: torch.Tensor, words: torch.Tensor, state=None):
        """Run the decoder on words (N, T) given image vectors v (N, D); returns scores (N, T, V) and the state."""
        x = self.embed(words)
        if self.condition in {"inject", "both"}:
            x = torch.cat([x, v.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=2)
        h, state = self.rnn(x, self.init_state(v) if state is None else state)
        return self.out(h), state

    def forward(self, images: torch.Tensor, captions_in: torch.Tensor) -> torch.Tensor:
        scores, _ = self.decode(self.encoder(images), captions_in)
        return scores

    def loss(self, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        """Teacher-forced cross-entropy per (non-<NULL>) word: inputs captions[:, :-1], targets captions[:, 1:]."""
        scores = self(images, captions[:, :-1])
        return F.cross_entropy(scores.reshape(-1, self.vocab_size), captions[:, 1:].reshape(-1), ignore_index=self.null_idx)

    @torch.no_grad()
    def sequence_logprob(self, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        """log p(caption | image) summed over the caption's words up to and including <END>; (N,)."""
        logp = F.log_softmax(self(images, captions[:, :-1]), dim=-1)
        target = captions[:, 1:]
        lp = logp.gather(2, target.unsqueeze(2)).squeeze(2)
        return (lp * (target != self.null_idx)).sum(1)

    # -- decoding -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def greedy(self, images: torch.Tensor, max_length: int = 30) -> torch.Tensor:
        """Feed back the most likely word until <END>; (N, max_length) words, <NULL> after each <END>."""
        v = self.encoder(images)
        N = v.shape[0]
        out = torch.full((N, max_length), self.null_idx, dtype=torch.long, device=v.device)
        word = torch.full((N, 1), self.start_idx, dtype=torch.long, device=v.device)
        done = torch.zeros(N, dtype=torch.bool, device=v.device)
        state = None
        for t in range(max_length):
            scores, state = self.decode(v, word, state)
            word = scores[:, -1].argmax(-1, keepdim=True)
            out[:, t] = torch.where(done, self.null_idx, word[:, 0])
            done |= word[:, 0] == self.end_idx
            if bool(done.all()):
                break
        return out

    @torch.no_grad()
    def beam_search(self, images: torch.Tensor, beam_size: int = 3, max_length: int = 30,
                    length_penalty: float = 0.0) -> torch.Tensor:
        """Keep the ``beam_size`` most likely partial captions at every step; return the best finished one per image.

        Scores are summed log-probabilities; a finished beam (it produced <END>) is carried on unchanged.
        The final choice divides each score by length**length_penalty (0: plain log-probability).
        Output like ``greedy``: (N, max_length) words, <NULL> after <END>. beam_size=1 is greedy decoding.
        """
        if beam_size < 1:
            raise ValueError(f"beam_search: beam_size must be >= 1, got {beam_size}")
        v = self.encoder(images)
        N, B, V, dev = v.shape[0], beam_size, self.vocab_size, v.device
        vb = v.repeat_interleave(B, dim=0)  # (N*B, D), beams of one image are adjacent
        scores = torch.full((N, B), float("-inf"), device=dev)
        scores[:, 0] = 0.0  # at the start all beams are the same; expand only the first
        tokens = torch.full((N, B, max_length), self.null_idx, dtype=torch.long, device=dev)
        finished = torch.zeros(N, B, dtype=torch.bool, device=dev)
        lengths = torch.zeros(N, B, device=dev)
        word = torch.full((N * B, 1), self.start_idx, dtype=torch.long, device=dev)
        state = None
        rows = torch.arange(N, device=dev).unsqueeze(1)
        for t in range(max_length):
            out, state = self.decode(vb, word, state)
            logp = F.log_softmax(out[:, -1], dim=-1).view(N, B, V)
            # a finished beam continues only with <NULL>, at no cost
            stay = torch.full_like(logp, float("-inf"))
            stay[..., self.null_idx] = 0.0
            logp = torch.where(finished.unsqueeze(2), stay, logp)
            cand = (scores.unsqueeze(2) + logp).view(N, B * V)
            top, idx = cand.topk(B, dim=1)
            beam, w = idx // V, idx % V
            tokens = tokens[rows, beam]
            tokens[:, :, t] = w
            finished = finished[rows, beam]
            lengths = lengths[rows, beam] + (~finished).float()
            finished = finished | (w == self.end_idx)
            scores = top
            flat = (rows * B + beam).view(-1)  # reorder the recurrent state to follow the surviving beams
            state = tuple(s[:, flat] for s in state) if isinstance(state, tuple) else state[:, flat]
            word = w.view(N * B, 1)
            if bool(finished.all()):
                break
        final = scores / lengths.clamp(min=1.0) ** length_penalty if length_penalty else scores
        best = final.argmax(dim=1)
        return tokens[torch.arange(N, device=dev), best]
