"""A recurrent attention model: classify an image by a short sequence of glimpses (Mnih et al.'s RAM, made smooth).

At every step t = 1..T the model looks at a small patch of the image around a location l_t, updates its state and
decides where to look next; after the last glimpse it classifies:

    g_t = crop(image, l_t)                                   (N, k, k): a k x k patch centred at l_t in [-1, 1]^2
    h_t = GRU([ReLU(W_g vec(g_t)); ReLU(W_l l_t)], h_{t-1})  (N, H)
    l_{t+1} = tanh(W_n h_t + b_n)                            (N, 2): where to look next
    y = W_y h_T + b_y                                        (N, classes): logits after the last glimpse

l_1 is a learned parameter (the same first look for every image). The crop is *differentiable*: it samples the
patch with bilinear interpolation (``F.grid_sample``, as in spatial transformers), so the gradient of the loss
reaches the locations and the whole model trains by backpropagation. The original model picks locations
stochastically and trains them with REINFORCE; that works but needs far more updates (its gradient estimate is
noisy), which a chapter that trains on two CPU cores in seconds cannot afford.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def glimpse(images: torch.Tensor, loc: torch.Tensor, size: int) -> torch.Tensor:
    """Crop ``size`` x ``size`` patches from ``images`` (N, H, W) centred at ``loc`` (N, 2) = (x, y) in [-1, 1]
    (-1 = the left/top edge of the image, +1 = the right/bottom edge), by bilinear interpolation; zeros outside.

    The patch covers size / W of the image's width (and size / H of its height): at the image's own resolution.
    Returns (N, size, size); differentiable in ``images`` and ``loc``.
    """
    if images.dim() != 3 or loc.shape != (images.shape[0], 2):
        raise ValueError(f"glimpse: expected images (N, H, W) and loc (N, 2), got {tuple(images.shape)} and "
                         f"{tuple(loc.shape)}")
    N, H, W = images.shape
    if not 1 <= size <= min(H, W):
        raise ValueError(f"glimpse: size must be in [1, {min(H, W)}], got {size}")
    theta = torch.zeros(N, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0], theta[:, 1, 1] = size / W, size / H  # scale: the output grid spans size pixels
    theta[:, :, 2] = loc                                  # translation: centred at loc
    grid = F.affine_grid(theta, [N, 1, size, size], align_corners=False)
    return F.grid_sample(images[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


class GlimpseClassifier(nn.Module):
    """``forward(images (N, H, W)) -> (logits (N, classes), locations (N, T, 2), patches (N, T, k, k))``."""

    def __init__(self, glimpses: int = 4, size: int = 4, hidden: int = 64, classes: int = 10):
        super().__init__()
        if glimpses < 1 or size < 1 or hidden < 1 or classes < 2:
            raise ValueError(f"need glimpses, size, hidden >= 1 and classes >= 2, got {glimpses}, {size}, "
                             f"{hidden}, {classes}")
        self.glimpses, self.size, self.hidden = glimpses, size, hidden
        self.l_1 = nn.Parameter(torch.zeros(2))
        self.W_g = nn.Linear(size * size, hidden)
        self.W_l = nn.Linear(2, hidden)
        self.core = nn.GRUCell(2 * hidden, hidden)
        self.W_n = nn.Linear(hidden, 2)
        self.W_y = nn.Linear(hidden, classes)
        nn.init.zeros_(self.W_n.weight)  # start by looking at l_1 again; learning moves the later looks
        nn.init.zeros_(self.W_n.bias)

    def extra_repr(self) -> str:
        return f"glimpses={self.glimpses}, size={self.size}, hidden={self.hidden}"

    def forward(self, images: torch.Tensor):
        if images.dim() != 3:
            raise ValueError(f"GlimpseClassifier: expected images (N, H, W), got {tuple(images.shape)}")
        N = images.shape[0]
        h = images.new_zeros(N, self.hidden)
        loc = torch.tanh(self.l_1).expand(N, 2)
        locs, patches = [], []
        for _ in range(self.glimpses):
            g = glimpse(images, loc, self.size)
            x = torch.cat([F.relu(self.W_g(g.flatten(1))), F.relu(self.W_l(loc))], dim=-1)
            h = self.core(x, h)
            locs.append(loc)
            patches.append(g)
            loc = torch.tanh(self.W_n(h))
        return self.W_y(h), torch.stack(locs, 1), torch.stack(patches, 1)
