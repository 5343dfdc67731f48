"""tbptt's checks and bookkeeping that the training-loop tests do not reach: what a checkpoint file may hold, the
version warning, train/eval modes around callbacks, the RNG state on resume, timing, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.models.charlm import CharLM
from rnnbook.tbptt import evaluate, gradient_mask, text_stream, train_lm
from rnnbook.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

IDS = np.random.default_rng(0).integers(0, 7, 600)


def model(seed: int = 0, **kw) -> CharLM:
    torch.manual_seed(seed)
    return CharLM(7, hidden=12, cell="gru", **kw)


def run(m, steps, **kw):
    return train_lm(m, kw.pop("stream", text_stream(IDS, 4, 8)), steps, progress=False, device="cpu", **kw)


@pytest.mark.parametrize("content, said", [([1, 2, 3], "it holds a list"),
                                           ({"foo": 1}, r"a dict without 'model' and 'step', keys \['foo'\]")])
def test_files_that_load_but_are_not_checkpoints(tmp_path, content, said):
    path = tmp_path / "x.pt"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=f"not a checkpoint written by rnnbook's save_checkpoint .*{said}"):
        load_checkpoint(path, model())


def test_an_empty_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="torch.load refused it"):
        load_checkpoint(path, model())


def test_weights_missing_extra_or_of_another_shape_are_listed(tmp_path):
    one = torch.nn.Sequential(torch.nn.Linear(2, 3))
    path = save_checkpoint(tmp_path / "s.pt", one)
    with pytest.raises(CheckpointError, match=r"missing weights \['1.bias', '1.weight'\]"):
        load_checkpoint(path, torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 3)))
    two = save_checkpoint(tmp_path / "t.pt", torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 3)))
    with pytest.raises(CheckpointError, match=r"unexpected weights \['1.bias', '1.weight'\]"):
        load_checkpoint(two, torch.nn.Sequential(torch.nn.Linear(2, 3)))
    with pytest.raises(CheckpointError, match=r"0.weight is \(3, 2\) in the checkpoint, \(4, 2\) in the model"):
        load_checkpoint(path, torch.nn.Sequential(torch.nn.Linear(2, 4)))


def test_an_optimizer_state_that_does_not_fit_is_named(tmp_path):
    m = model()
    opt = torch.optim.Adam(m.parameters())
    path = save_checkpoint(tmp_path / "c.pt", m, opt)
    ckpt = torch.load(path, weights_only=True)
    del ckpt["rnnbook"]  # as written before checkpoints recorded their optimizer
    torch.save(ckpt, path)
    fewer = torch.optim.Adam([m.head.weight])
    with pytest.raises(CheckpointError, match="the optimizer's saved state does not fit optimizer Adam"):
        load_checkpoint(path, m, fewer)
    load_checkpoint(path, m)  # the weights alone still load


def test_another_rnnbook_version_is_a_warning_not_an_error(tmp_path):
    m = model()
    path = save_checkpoint(tmp_path / "c.pt", m)
    ckpt = torch.load(path, weights_only=True)
    ckpt["rnnbook"]["rnnbook"] = "0.0.1"
    torch.save(ckpt, path)
    with pytest.warns(UserWarning, match="written by rnnbook 0.0.1"):
        load_checkpoint(path, model(seed=1))
    with warnings_as_errors():
        load_checkpoint(save_checkpoint(tmp_path / "d.pt", m), model(seed=1))  # the same version: silent


def warnings_as_errors():
    import warnings

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")

    class Exit:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            ctx.__exit__(*exc)
            return False

    return Exit()


def test_resume_restores_the_random_state_for_dropout(tmp_path):
    straight = run(model(dropout=0.3), 8).loss
    path = tmp_path / "c.pt"
    run(model(dropout=0.3), 3, checkpoint=path)
    torch.manual_seed(999)  # whatever the generator says now, the checkpoint's state wins
    resumed = run(model(seed=5, dropout=0.3), 8, checkpoint=path, resume=True).loss
    np.testing.assert_allclose(resumed, straight[3:], rtol=1e-6)


def test_resume_must_be_true_false_or_auto(tmp_path):
    with pytest.raises(ValueError, match="resume must be True, False or 'auto', got 'yes'"):
        run(model(), 2, checkpoint=tmp_path / "c.pt", resume="yes")


def test_modes_around_callbacks_and_at_the_end():
    m = model()
    modes = []

    def callback(step, mm):
        modes.append(mm.training)
        mm.eval()  # a callback that samples leaves the model in eval mode

    run(m, 6, eval_every=2, callback=callback, val=text_stream(IDS[:200], 2, 8))
    assert modes == [True, True, True]  # evaluate handed it back in train mode
    assert not m.training  # handed back in eval mode
    m.train()
    evaluate(m, text_stream(IDS[:200], 2, 8))
    assert m.training  # evaluate restores the mode it found


def test_training_after_a_callback_is_in_train_mode():
    m = CharLM(7, hidden=12, cell="gru", dropout=0.5)
    seen = []
    real = m.forward
    m.forward = lambda x, state=None: seen.append(m.training) or real(x, state)
    run(m, 4, eval_every=2, callback=lambda step, mm: mm.eval())
    assert seen[:4] == [True, True, True, True]


def test_time_and_volume_are_recorded():
    hist = train_lm(model(), text_stream(IDS, 4, 8), time_budget=0.3, progress=False, device="cpu")
    assert 0.3 <= hist.seconds < 5.0 and hist.steps == len(hist.loss)
    assert 28 * hist.steps <= hist.tokens <= 32 * hist.steps  # 4 rows x 8 steps, the last chunk of a pass shorter


def test_evaluate_and_gradient_mask_check_their_arguments():
    with pytest.raises(ValueError, match="device='tpu' is not a device"):
        evaluate(model(), text_stream(IDS[:200], 2, 8), device="tpu")
    for T, k in ((0, 1), (3, 0)):
        with pytest.raises(ValueError, match=f"need T >= 1 and k >= 1, got T={T}, k={k}"):
            gradient_mask(T, k)


class Payload:
    """A pickle that runs code when unpickled: it creates the folder ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return os.makedirs, (self.marker,)


def test_a_malicious_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save(Payload(marker), path)
    with pytest.raises(CheckpointError, match="torch.load refused it.*Never load a file you do not trust"):
        load_checkpoint(path, model())
    assert not marker.exists()
