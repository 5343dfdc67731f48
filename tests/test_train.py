"""rnnbook.train: the one training loop (schedules, clipping, divergence watch, time budget, checkpoints) and the
task trainers of rnnbook.train.tasks, which must train exactly as the loops they replaced."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnbook.train as train
from rnnbook.train import DivergenceError, DivergenceWatch, fit, lr_factor, update
from rnnbook.train.checkpoint import load_checkpoint

SRC = Path(__file__).resolve().parents[1] / "src" / "rnnbook"


def _ramp(steps: int, **kw) -> list[float]:
    """SGD on loss = w (gradient 1, no clipping): each update moves w by exactly the learning rate it ran at."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    seen = []

    def step_loss(step):
        seen.append(float(model.weight.detach()))
        return model.weight.sum()

    fit(model, step_loss, steps, lr=0.1, optimizer="sgd", clip_norm=None, progress=False, **kw)
    seen.append(float(model.weight.detach()))
    return list(-np.diff(seen))


def test_fit_runs_every_update_at_its_scheduled_learning_rate():
    steps = 10
    cosine = _ramp(steps, schedule="cosine", final_lr=0.05)
    by_hand = [0.1 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * s / steps))) for s in range(steps)]
    np.testing.assert_allclose(cosine, by_hand, rtol=1e-5)
    linear = _ramp(steps, schedule="linear", warmup=0.2)
    by_hand = [0.1 * ((s / steps + 1e-3) / 0.2 if s / steps < 0.2 else 1 - (s / steps - 0.2) / 0.8)
               for s in range(steps)]
    np.testing.assert_allclose(linear, by_hand, rtol=1e-5)
    np.testing.assert_allclose(_ramp(steps), [0.1] * steps, rtol=1e-6)  # constant: the default


def test_lr_factor_floor():
    assert lr_factor(1.0, "cosine", floor=0.05) == pytest.approx(0.05)
    assert lr_factor(0.0, "linear", floor=0.3) == 1.0 and lr_factor(0.5, "linear", floor=0.5) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="floor"):
        lr_factor(0.5, "cosine", floor=1.5)
    with pytest.raises(ValueError, match="final_lr"):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), 2, final_lr=-0.1, progress=False)
    with pytest.raises(ValueError, match="schedule"):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), 2, schedule="step", progress=False)


def _climbing(model):
    """A loss that starts at 1 and jumps to 100: finite, but far above three times its start."""
    return lambda step: model.weight.sum() * 0 + (1.0 if step == 0 else 100.0)


def test_fit_watch_stops_a_loss_that_stays_far_above_its_start():
    model = torch.nn.Linear(1, 1)
    with pytest.raises(DivergenceError, match=r"stayed above 4 .* for 3 updates") as err:
        fit(model, _climbing(model), 10, watch=DivergenceWatch(patience=3), progress=False)
    assert "learning rate" in str(err.value) and "at step 3" in str(err.value)
    assert len(fit(model, _climbing(model), 10, progress=False).loss) == 10  # the watch is off by default


def test_fit_time_budget_and_on_update():
    ticks = iter(range(100))
    done = []
    hist = fit(torch.nn.Linear(1, 1), lambda s: torch.nn.Linear(1, 1).weight.sum(), time_budget=3.5,
               clock=lambda: float(next(ticks)), on_update=lambda step, h: done.append((step, len(h.loss))),
               progress=False)
    assert len(hist.loss) == 4 and done == [(1, 1), (2, 2), (3, 3), (4, 4)]  # clock 0, 1, 2, 3 < 3.5; 4 stops it
    with pytest.raises(ValueError, match="give steps"):
        fit(torch.nn.Linear(1, 1), lambda s: torch.zeros(()), progress=False)


def test_fit_writes_checkpoints(tmp_path, monkeypatch):
    saved = []
    real = train.save_checkpoint
    monkeypatch.setattr(train, "save_checkpoint", lambda path, m, o, step: saved.append(step) or real(path, m, o, step))
    model = torch.nn.Linear(2, 1)
    fit(model, lambda s: model(torch.ones(1, 2)).sum() ** 2, 5, checkpoint=tmp_path / "c.pt", checkpoint_every=2,
        progress=False)
    assert saved == [2, 4, 5]
    fresh = torch.nn.Linear(2, 1)
    assert load_checkpoint(tmp_path / "c.pt", fresh)["step"] == 5
    torch.testing.assert_close(fresh.weight, model.weight)


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


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_models_hold_no_training_code():
    """Models are nn.Modules: no module of rnnbook.models imports the training loop, even inside a function."""
    bad = {p.name: sorted(n for n in _imports(p) if n.startswith(("rnnbook.train", "rnnbook.tbptt")))
           for p in (SRC / "models").glob("*.py")}
    assert not {k: v for k, v in bad.items() if v}
    code = ("import sys, importlib, pkgutil, rnnbook.models as M\n"
            "for m in pkgutil.iter_modules(M.__path__): importlib.import_module('rnnbook.models.' + m.name)\n"
            "print(sorted(k for k in sys.modules if k.startswith(('rnnbook.train', 'rnnbook.tbptt'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_training_loop_outside_train_and_tbptt():
    """Every call of an optimizer's step() in the torch code of the package is in rnnbook.train (update)."""
    steps = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if ".step()" in p.read_text()
             and "opt" in p.read_text()]
    assert steps == ["train/__init__.py"], steps
