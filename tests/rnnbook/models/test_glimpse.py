"""The glimpse sensor (against direct indexing), gradients to the locations, the classifier, and the path plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from rnnbook.data.digits import load_digit_images  # noqa: E402
from rnnbook.metrics import glimpse_accuracy  # noqa: E402
from rnnbook.models.glimpse import GlimpseClassifier, glimpse  # noqa: E402
from rnnbook.train.tasks import train_glimpse  # noqa: E402


def _pixel_loc(row: float, col: float, size: int, W: int = 8) -> torch.Tensor:
    """The location whose size x size patch starts at pixel (row, col): its centre in [-1, 1] coordinates."""
    cx, cy = col + (size - 1) / 2, row + (size - 1) / 2
    return torch.tensor([[(2 * cx + 1) / W - 1, (2 * cy + 1) / W - 1]])


@pytest.mark.parametrize("row,col,size", [(0, 0, 2), (2, 3, 4), (5, 1, 3), (0, 0, 8)])
def test_glimpse_on_the_pixel_grid_equals_slicing(row, col, size):
    img = torch.arange(64, dtype=torch.float32).view(1, 8, 8)
    got = glimpse(img, _pixel_loc(row, col, size), size)
    torch.testing.assert_close(got[0], img[0, row:row + size, col:col + size])


def test_glimpse_outside_is_zero_and_between_pixels_interpolates():
    img = torch.ones(1, 8, 8)
    assert float(glimpse(img, torch.tensor([[5.0, 5.0]]), 2).abs().max()) == 0.0
    ramp = torch.arange(8, dtype=torch.float32).repeat(8, 1)[None]  # value = column index
    half = _pixel_loc(0, 2, 2) + torch.tensor([[1 / 8, 0.0]])         # half a pixel to the right
    torch.testing.assert_close(glimpse(ramp, half, 2)[0], torch.tensor([[2.5, 3.5], [2.5, 3.5]]))


def test_gradient_reaches_the_location():
    img = torch.rand(2, 8, 8, generator=torch.Generator().manual_seed(0))
    loc = torch.tensor([[0.1, -0.2], [0.3, 0.05]], requires_grad=True)
    glimpse(img, loc, 3).sum().backward()
    assert loc.grad is not None and torch.all(loc.grad.abs().sum(1) > 0)


def test_classifier_shapes_and_first_location():
    torch.manual_seed(0)
    m = GlimpseClassifier(glimpses=3, size=2, hidden=8)
    logits, locs, patches = m(torch.rand(5, 8, 8))
    assert logits.shape == (5, 10) and locs.shape == (5, 3, 2) and patches.shape == (5, 3, 2, 2)
    assert torch.all(locs.abs() <= 1)
    torch.testing.assert_close(locs[:, 0], torch.tanh(m.l_1).expand(5, 2))


def test_digits_split_and_learning():
    x_tr, y_tr, x_te, y_te = load_digit_images(0)
    assert x_tr.shape[1:] == (8, 8) and len(x_tr) + len(x_te) == 1797 and float(x_tr.max()) <= 1.0
    assert torch.equal(load_digit_images(0)[3], y_te)  # deterministic split
    torch.manual_seed(0)
    m = GlimpseClassifier(glimpses=2, size=4, hidden=16)
    train_glimpse(m, x_tr, y_tr, 60, progress=False)
    assert glimpse_accuracy(m, x_te, y_te) > 0.5  # chance is 0.1
