"""Show, Attend and Tell (Xu et al. 2015): an LSTM decoder that looks at a different place for every word.

The encoder keeps the CNN's spatial grid: an image becomes L annotation vectors a_i (one per grid cell), each D wide.
At every step t the decoder scores every location against its previous state, and reads a weighted average:

    e_ti = w_att^T relu(W_a a_i + W_h h_{t-1} + b)        (f_att, an MLP (tanh in the paper); scores, (N, L))
    alpha_t = softmax(e_t)                                 (attention over the L locations, sums to 1)
    z_t = sum_i alpha_ti a_i                               (context vector, (N, D))
    h_t, c_t = LSTM([E y_{t-1}; z_t], (h_{t-1}, c_{t-1}))
    p(y_t) = softmax(L_o tanh(E y_{t-1} + L_h h_t + L_z z_t))       (the paper's "deep output")

with h_0, c_0 = tanh(W_init mean_i a_i). Training minimises the cross-entropy of the next word plus the doubly
stochastic regulariser lambda * sum_i (1 - sum_t alpha_ti)^2, which asks every location to be looked at about once
over the caption.

``context="uniform"`` replaces alpha_t by 1/L everywhere (z_t = mean_i a_i at every step): the same decoder *without*
attention, the captioner that injects the image at every step. ``context="zero"`` feeds z_t = 0 (a language model
that sees the image only through h_0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CONTEXTS = ("attention", "uniform", "zero")


def coordinate_channels(height: int, width: int, like: Tensor) -> Tensor:
    """Two channels (2, height, width) holding each cell's x and y centre in [-1, 1] (CoordConv)."""
    ys = torch.linspace(-1, 1, height, dtype=like.dtype, device=like.device)
    xs = torch.linspace(-1, 1, width, dtype=like.dtype, device=like.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy])


class GridEncoder(nn.Module):
    """A small CNN that keeps the spatial grid: images (N, 3, H, W) -> annotations a (N, L, D), L = (H/8)(W/8).

    A 4x4 convolution with stride 4 cuts the image into patches (64x64 -> 16x16), a 3x3 convolution with stride 2
    halves the grid (-> 8x8) and a 3x3 convolution with stride 1 mixes neighbours; ReLU after each. A cell of the
    8x8 grid covers 8x8 pixels and sees a 28x28 patch around them. Small on purpose: it trains on a CPU in seconds.
    ``coords=True`` appends each cell's (x, y) in [-1, 1] to its features, so D = channels + 2: the features then say
    *where* they are, which spatial relations ("left of") need.
    """

    def __init__(self, channels: tuple[int, int, int] = (16, 32, 32), coords: bool = True, batchnorm: bool = True):
        super().__init__()
        c1, c2, c3 = channels
        norm = (lambda c: nn.BatchNorm2d(c)) if batchnorm else (lambda c: nn.Identity())
        self.convs = nn.Sequential(
            nn.Conv2d(3, c1, 4, stride=4), norm(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), norm(c2), nn.ReLU(),
            nn.Conv2d(c2, c3, 3, stride=1, padding=1), norm(c3), nn.ReLU(),
        )
        self.coords = coords
        self.out_dim = c3 + (2 if coords else 0)
        self.stride = 8

    def grid_shape(self, height: int, width: int) -> tuple[int, int]:
        """The (rows, columns) of the feature grid for an image of that size."""
        if height % 8 or width % 8:
            raise ValueError(f"image height and width must be multiples of 8, got {height}x{width}")
        return height // 8, width // 8

    def forward(self, images: Tensor) -> Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be (N, 3, H, W), got shape {tuple(images.shape)}")
        self.grid_shape(images.shape[2], images.shape[3])
        f = self.convs(images)  # (N, C, h, w)
        if self.coords:
            xy = coordinate_channels(f.shape[2], f.shape[3], f).expand(f.shape[0], -1, -1, -1)
            f = torch.cat([f, xy], dim=1)
        return f.flatten(2).transpose(1, 2)  # (N, L, D), locations in row-major order


class SoftAttention(nn.Module):
    """f_att: e_i = w^T act(W_a a_i + W_h h + b), alpha = softmax(e) over the L locations.

    The paper's ``act`` is tanh; the default here is ReLU, the same one-hidden-layer MLP but about 15 times cheaper
    on a CPU (the (N, L, attn_dim) activation is the most expensive tensor of a decoder step).
    ``project(a)`` computes W_a a_i once per image; ``forward(a_proj, h, a)`` returns (z (N, D), alpha (N, L)).
    """

    def __init__(self, feature_dim: int, query_dim: int, attn_dim: int = 32, act: str = "relu"):
        super().__init__()
        if act not in ("relu", "tanh"):
            raise ValueError(f"act must be 'relu' or 'tanh', got {act!r}")
        self.act = torch.relu if act == "relu" else torch.tanh
        self.W_a = nn.Linear(feature_dim, attn_dim, bias=False)
        self.W_h = nn.Linear(query_dim, attn_dim)
        self.w = nn.Linear(attn_dim, 1, bias=False)

    def project(self, a: Tensor) -> Tensor:
        return self.W_a(a)

    def scores(self, a_proj: Tensor, h: Tensor) -> Tensor:
        """Unnormalised scores e (N, L)."""
        return self.w(self.act(a_proj + self.W_h(h).unsqueeze(1))).squeeze(-1)

    def forward(self, a_proj: Tensor, h: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        alpha = torch.softmax(self.scores(a_proj, h), dim=1)
        return (alpha.unsqueeze(-1) * a).sum(dim=1), alpha


def doubly_stochastic_penalty(alphas: Tensor, mask: Tensor | None = None) -> Tensor:
    """sum_i (1 - sum_t alpha_ti)^2, averaged over the batch. alphas (N, T, L); mask (N, T) marks real steps.

    Every alpha_t sums to 1 over locations; the penalty asks that, summed over *time*, every location gets about 1
    too, i.e. that the decoder looks at every part of the image at some point. With L locations and T words the
    smallest possible value is (L - T)^2 / L when T < L (every location gets T / L).
    """
    if alphas.dim() != 3:
        raise ValueError(f"alphas must be (N, T, L), got shape {tuple(alphas.shape)}")
    if mask is not None:
        alphas = alphas * mask.unsqueeze(-1).to(alphas.dtype)
    return ((1.0 - alphas.sum(dim=1)) ** 2).sum(dim=1).mean()


@dataclass
class Decoded:
    """Output of greedy or beam decoding: tokens (N, T) (padded with <NULL> after <END>) and alphas (N, T, L)."""

    tokens: Tensor
    alphas: Tensor


class ShowAttendTell(nn.Module):
    """Encoder (grid) + attention + LSTM decoder. ``forward(images, captions_in) -> (scores (N,T,V), alphas (N,T,L))``.

    Every method that takes ``images`` also takes annotations a (N, L, D) computed beforehand (e.g. by a frozen,
    pretrained encoder, as Xu et al. used VGG features), which skips the encoder.

    ``null_idx``, ``start_idx`` and ``end_idx`` are the vocabulary's <NULL>, <START> and <END>. ``context`` is
    ``"attention"`` (the model of the paper), ``"uniform"`` (no attention: z_t = mean of a) or ``"zero"``.
    """

    def __init__(self, vocab_size: int, null_idx: int, start_idx: int, end_idx: int, wordvec_dim: int = 32,
                 hidden_dim: int = 96, attn_dim: int = 32, encoder: nn.Module | None = None,
                 context: str = "attention"):
        super().__init__()
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, got {context!r}")
        for name, idx in (("null_idx", null_idx), ("start_idx", start_idx), ("end_idx", end_idx)):
            if not 0 <= idx < vocab_size:
                raise ValueError(f"{name} must be in [0, {vocab_size}), got {idx}")
        self.null_idx, self.start_idx, self.end_idx, self.context = null_idx, start_idx, end_idx, context
        self.encoder = encoder if encoder is not None else GridEncoder()
        D = self.encoder.out_dim
        self.embed = nn.Embedding(vocab_size, wordvec_dim)
        self.init_h, self.init_c = nn.Linear(D, hidden_dim), nn.Linear(D, hidden_dim)
        self.attention = SoftAttention(D, hidden_dim, attn_dim)
        self.lstm = nn.LSTMCell(wordvec_dim + D, hidden_dim)
        self.L_h, self.L_z = nn.Linear(hidden_dim, wordvec_dim), nn.Linear(D, wordvec_dim, bias=False)
        self.L_o = nn.Linear(wordvec_dim, vocab_size)

    def annotations(self, images: Tensor) -> Tensor:
        """images (N, 3, H, W) -> a (N, L, D) through the encoder; a (N, L, D) computed before passes unchanged."""
        if images.dim() == 3:
            return images
        return self.encoder(images)

    # -- one step ---------------------------------------------------------------------------------------------
    def init_state(self, a: Tensor) -> tuple[Tensor, Tensor]:
        mean = a.mean(dim=1)
        return torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean))

    def attend(self, a: Tensor, a_proj: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """(z_t, alpha_t) for the chosen ``context``."""
        N, L, _ = a.shape
        if self.context == "attention":
            return self.attention(a_proj, h, a)
        alpha = a.new_full((N, L), 1.0 / L)
        z = a.mean(dim=1) if self.context == "uniform" else a.new_zeros(N, a.shape[2])
        return z, alpha

    def step(self, a: Tensor, a_proj: Tensor, word: Tensor, state: tuple[Tensor, Tensor]):
        """One decoder step: previous word (N,) -> (scores (N, V), alpha (N, L), new state)."""
        e = self.embed(word)
        z, alpha = self.attend(a, a_proj, state[0])
        h, c = self.lstm(torch.cat([e, z], dim=1), state)
        scores = self.L_o(torch.tanh(e + self.L_h(h) + self.L_z(z)))
        return scores, alpha, (h, c)

    # -- teacher forcing --------------------------------------------------------------------------------------
    def forward(self, images: Tensor, captions_in: Tensor) -> tuple[Tensor, Tensor]:
        a = self.annotations(images)
        a_proj = self.attention.project(a)
        state = self.init_state(a)
        scores, alphas = [], []
        for t in range(captions_in.shape[1]):
            s, alpha, state = self.step(a, a_proj, captions_in[:, t], state)
            scores.append(s)
            alphas.append(alpha)
        return torch.stack(scores, 1), torch.stack(alphas, 1)

    def loss(self, images: Tensor, captions: Tensor, doubly_stochastic: float = 0.0) -> tuple[Tensor, dict]:
        """Mean cross-entropy per real (non-<NULL>) word + ``doubly_stochastic`` * the penalty.

        captions (N, T+1) start with <START>; the model reads captions[:, :-1] and predicts captions[:, 1:].
        Returns (loss, {"xent": ..., "penalty": ...}).
        """
        if captions.dim() != 2 or captions.shape[0] != images.shape[0]:
            raise ValueError(f"captions must be (N, T+1) with N = {images.shape[0]}, got {tuple(captions.shape)}")
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        scores, alphas = self(images, captions_in)
        mask = captions_out != self.null_idx
        xent = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), captions_out.reshape(-1),
                               ignore_index=self.null_idx)
        penalty = doubly_stochastic_penalty(alphas, mask)
        total = xent + doubly_stochastic * penalty if doubly_stochastic else xent
        return total, {"xent": float(xent.detach()), "penalty": float(penalty.detach())}

    # -- decoding ---------------------------------------------------------------------------------------------
    @torch.no_grad()
    def greedy(self, images: Tensor, max_length: int = 16) -> Decoded:
        """Pick the most likely word at every step; stop a row at <END>. Tokens exclude <START>, include <END>."""
        a = self.annotations(images)
        a_proj = self.attention.project(a)
        state = self.init_state(a)
        N = a.shape[0]
        word = torch.full((N,), self.start_idx, dtype=torch.long, device=a.device)
        done = torch.zeros(N, dtype=torch.bool, device=a.device)
        tokens, alphas = [], []
        for _ in range(max_length):
            scores, alpha, state = self.step(a, a_proj, word, state)
            word = scores.argmax(dim=1)
            word = torch.where(done, torch.full_like(word, self.null_idx), word)
            tokens.append(word)
            alphas.append(alpha * (~done).unsqueeze(1))
            done = done | (word == self.end_idx)
            if bool(done.all()):
                break
        return Decoded(torch.stack(tokens, 1), torch.stack(alphas, 1))

    @torch.no_grad()
    def beam(self, images: Tensor, beam_size: int = 3, max_length: int = 16, length_penalty: float = 0.0) -> Decoded:
        """Beam search, one image at a time: keep the ``beam_size`` most likely prefixes, finish them at <END>.

        A finished caption's score is log p / len^length_penalty (0: plain log-probability). Returns the best caption
        per image, padded with <NULL>, and its attention maps.
        """
        if beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {beam_size}")
        results = [self._beam_one(images[n:n + 1], beam_size, max_length, length_penalty)
                   for n in range(images.shape[0])]
        T = max(len(toks) for toks, _ in results)
        L = results[0][1].shape[1]
        tokens = torch.full((len(results), T), self.null_idx, dtype=torch.long)
        alphas = torch.zeros(len(results), T, L)
        for n, (toks, al) in enumerate(results):
            tokens[n, :len(toks)] = torch.tensor(toks, dtype=torch.long)
            alphas[n, :len(toks)] = al
        return Decoded(tokens, alphas)

    def _beam_one(self, image: Tensor, beam_size: int, max_length: int, length_penalty: float):
        a = self.annotations(image)
        a_proj = self.attention.project(a)
        h, c = self.init_state(a)
        words = torch.tensor([self.start_idx], device=a.device)
        logp = torch.zeros(1, device=a.device)
        seqs: list[list[int]] = [[]]
        maps: list[list[Tensor]] = [[]]
        finished: list[tuple[float, list[int], list[Tensor]]] = []
        for t in range(max_length):
            B = words.shape[0]
            scores, alpha, (h, c) = self.step(a.expand(B, -1, -1), a_proj.expand(B, -1, -1), words, (h, c))
            cand = (logp.unsqueeze(1) + torch.log_softmax(scores, dim=1)).flatten()
            top = torch.topk(cand, min(beam_size, cand.numel())).indices
            V = scores.shape[1]
            keep_rows, keep_words, keep_logp, new_seqs, new_maps = [], [], [], [], []
            for idx in top.tolist():
                row, w = divmod(idx, V)
                seq, mp = seqs[row] + [w], maps[row] + [alpha[row].cpu()]
                if w == self.end_idx or t == max_length - 1:
                    finished.append((float(cand[idx]) / len(seq) ** length_penalty, seq, mp))
                else:
                    keep_rows.append(row)
                    keep_words.append(w)
                    keep_logp.append(cand[idx])
                    new_seqs.append(seq)
                    new_maps.append(mp)
            if len(finished) >= beam_size or not keep_rows:
                break
            seqs, maps = new_seqs, new_maps
            rows = torch.tensor(keep_rows, device=a.device)
            h, c = h[rows], c[rows]
            words = torch.tensor(keep_words, device=a.device)
            logp = torch.stack(keep_logp)
        best = max(finished, key=lambda f: f[0])
        return best[1], torch.stack(best[2])
