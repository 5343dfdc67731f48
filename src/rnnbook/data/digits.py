"""scikit-learn's 8 x 8 handwritten digits, the images chapter 10's glimpse model classifies."""

from __future__ import annotations

import numpy as np
import torch


def load_digit_images(seed: int = 0, test_fraction: float = 0.25):
    """scikit-learn's 8 x 8 handwritten digits (1797 images, shipped with the library: no download), scaled to
    [0, 1] and split by a seeded permutation. Returns (x_train (N, 8, 8) float, y_train (N,) long, x_test, y_test)
    as torch tensors."""
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    digits = load_digits()
    x = torch.tensor(digits.images / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(y)))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]
