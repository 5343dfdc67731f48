"""Tests of ``rnnbook.train.checkpoint``: checkpoints: weights, optimizer state, step, carried hidden state and RNG
state, written so that loading one can never run code (``torch.load(..., weights_only=True)``), and checked against
the model on load."""

from __future__ import annotations

import pytest
import torch

from rnnbook.models.charlm import CharLM
from rnnbook.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from ..tiny_lm import _model, model, small_lm


def test_save_checkpoint_writes_weights_only_file(tmp_path):
    model = _model()
    opt = torch.optim.Adam(model.parameters())
    path = save_checkpoint(tmp_path / "a" / "b.pt", model, opt, step=3, state=torch.ones(1, 2, 12), note="hi")
    loaded = torch.load(path, weights_only=True)
    assert loaded["meta"] == {"note": "hi"} and loaded["step"] == 3
    weights = torch.load(save_checkpoint(tmp_path / "w.pt", model), weights_only=True)  # for inference only
    assert weights["optimizer"] is None and weights["rnnbook"]["optimizer"] is None and weights["step"] == 0
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt", model)


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


# --- bad input ------------------------------------------------------------------------------------------------


# ---- confusing errors: checkpoints ----------------------------------------------------------------------------------

def test_checkpoint_text_file_is_not_an_rnnbook_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, small_lm())
    message = str(err.value)
    assert "not a checkpoint written by rnnbook" in message and "Never load a file you do not trust" in message
    assert "weights_only=False" in message and "set `weights_only" not in message.lower()


def test_checkpoint_bare_state_dict_is_named(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(small_lm().state_dict(), path)
    with pytest.raises(CheckpointError, match="bare state_dict.*model.load_state_dict"):
        load_checkpoint(path, small_lm())


def test_checkpoint_of_another_size_names_the_size(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", small_lm())
    torch.manual_seed(0)
    with pytest.raises(CheckpointError, match=r"vocab_size=20 \(model: 30\)"):
        load_checkpoint(path, CharLM(30, hidden=16))


def test_checkpoint_of_another_model_class_is_named(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", small_lm())
    with pytest.raises(CheckpointError, match="holds a CharLM, but model is a Linear"):
        load_checkpoint(path, torch.nn.Linear(2, 2))
