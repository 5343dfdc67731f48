"""Tests of ``rnnbook.train.tasks``: the trainers of the book's tasks, each a loss on a seeded minibatch handed to
``rnnbook.train.fit``."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from rnnbook.data.scenes import make_scenes  # noqa: E402
from rnnbook.grounding import cell_labels  # noqa: E402
from rnnbook.models.attention import GridEncoder  # noqa: E402
from rnnbook.train import update  # noqa: E402
from rnnbook.train.tasks import pretrain_encoder  # noqa: E402


def test_pretrain_encoder_lowers_the_loss():
    scenes = make_scenes(64, seed=0)
    labels = {k: torch.from_numpy(v) for k, v in cell_labels(scenes).items()}
    torch.manual_seed(0)
    losses = pretrain_encoder(GridEncoder((4, 8, 8)), torch.from_numpy(scenes.images), labels, steps=30,
                              batch_size=16, progress=False)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])
    with pytest.raises(ValueError):
        pretrain_encoder(GridEncoder(), torch.rand(2, 3, 64, 64), {}, steps=1)


def test_train_captioner_trains_as_its_own_cosine_loop_did():
    """The loop train_captioner had before it went through fit: Adam, LambdaLR cosine to 5 %, clipping at 5."""
    from rnnbook.models.captioner import Captioner, PrecomputedFeatures
    from rnnbook.train.tasks import train_captioner

    def model():
        torch.manual_seed(0)
        return Captioner(9, PrecomputedFeatures(4), wordvec_dim=4, hidden_dim=8)

    gen = torch.Generator().manual_seed(1)
    feats, caps = torch.randn(6, 4, generator=gen), torch.randint(3, 9, (6, 5), generator=gen)
    caps[:, 0] = 1
    idxs, steps = torch.arange(6), 12
    m = model()
    got = train_captioner(m, feats, caps, idxs, steps, batch_size=4, lr=1e-2, progress=False).loss

    ref = model()
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam([p for p in ref.parameters() if p.requires_grad], lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * s / steps)))
    want = []
    for step in range(steps):
        b = torch.randint(0, 6, (4,), generator=g)
        want.append(update(ref, opt, ref.loss(feats[idxs[b]], caps[b]), step, 1e-2, 5.0))
        sched.step()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for p, q in zip(m.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7)


def test_pretrain_encoder_trains_as_its_own_loop_did():
    """Adam on the summed per-attribute cross-entropy, no clipping: the loop pretrain_encoder had before fit."""
    from torch import nn

    from rnnbook.models.attention import GridEncoder
    from rnnbook.train.tasks import pretrain_encoder

    images = torch.rand(8, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    labels = {"color": torch.randint(0, 3, (8, 64)), "shape": torch.randint(0, 4, (8, 64))}

    torch.manual_seed(0)
    enc = GridEncoder()
    got = pretrain_encoder(enc, images, labels, steps=4, batch_size=4, progress=False)
    assert not enc.training

    torch.manual_seed(0)
    ref = GridEncoder()
    heads = nn.ModuleDict({k: nn.Linear(ref.out_dim, int(v.max()) + 1) for k, v in labels.items()})
    opt = torch.optim.Adam(list(ref.parameters()) + list(heads.parameters()), lr=1e-2)
    gen, want = torch.Generator().manual_seed(0), []
    for _ in range(4):
        idx = torch.randint(0, 8, (4,), generator=gen)
        a = ref(images[idx])
        loss = sum(F.cross_entropy(h(a).flatten(0, 1), labels[k][idx].flatten()) for k, h in heads.items())
        opt.zero_grad()
        loss.backward()
        opt.step()
        want.append(float(loss))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_pretrain_grid_encoder_is_seeded():
    from rnnbook.data.scenes import make_scenes
    from rnnbook.train.tasks import pretrain_grid_encoder

    scenes = make_scenes(8, seed=0)
    (e1, l1), (e2, l2), (_, l3) = (pretrain_grid_encoder(scenes, 3, seed=s, batch_size=4, progress=False)
                                   for s in (0, 0, 1))
    assert l1 == l2 and l1 != l3 and not e1.training
    for p, q in zip(e1.parameters(), e2.parameters()):
        assert torch.equal(p, q)
