"""Tests of ``rnnbook.env``: seeds, device, scale and BLAS threads: what the setup cell of every chapter calls, and the
one place that sets how many threads numpy's BLAS may use (through ``threadpoolctl``)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import rnnbook
from rnnbook.env import blas_threads, check_device, get_device, setup


def test_seed_everything_repeats_every_generator():
    def draw():
        rnnbook.seed_everything(7)
        return random.random(), np.random.rand(), torch.rand(1).item()

    assert draw() == draw()
    with pytest.raises(TypeError):
        rnnbook.seed_everything("7")


def test_scale_and_device_knobs(monkeypatch):
    monkeypatch.delenv("RNNBOOK_SCALE", raising=False)
    assert rnnbook.get_scale() == "ci"
    monkeypatch.setenv("RNNBOOK_SCALE", "FULL")
    assert rnnbook.get_scale() == "full"
    monkeypatch.setenv("RNNBOOK_SCALE", "huge")
    with pytest.raises(ValueError, match="RNNBOOK_SCALE"):
        rnnbook.get_scale()
    monkeypatch.setenv("RNNBOOK_DEVICE", "cpu")
    assert rnnbook.get_device() == "cpu"
    monkeypatch.delenv("RNNBOOK_DEVICE")
    assert rnnbook.get_device() == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_knob(monkeypatch, capsys):
    monkeypatch.delenv("RNNBOOK_SEED", raising=False)
    assert rnnbook.get_seed() == 0 and rnnbook.setup().seed == 0
    monkeypatch.setenv("RNNBOOK_SEED", " 2 ")
    assert rnnbook.setup().seed == 2 and "seed=2" in capsys.readouterr().out
    first = np.random.rand()
    assert rnnbook.setup().seed == 2 and np.random.rand() == first  # the knob seeds every generator
    assert rnnbook.setup(seed=5).seed == 5  # an explicit seed wins over the knob
    monkeypatch.setenv("RNNBOOK_SEED", "one")
    with pytest.raises(ValueError, match="RNNBOOK_SEED"):
        rnnbook.setup()


def test_blas_threads_limits_and_restores_the_setting():
    from threadpoolctl import threadpool_info

    def blas_pools():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    a = np.ones((300, 300))
    before = blas_pools()
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    n = 2 if max(before) == 1 else 1  # a limit that differs from the setting now
    with blas_threads(n):
        inside = a @ a
        assert blas_pools() == [n] * len(before)
    np.testing.assert_array_equal(inside, a @ a)
    assert blas_pools() == before
    with blas_threads(None):
        assert blas_pools() == before
    with pytest.raises(ValueError, match="threads >= 1"):
        with blas_threads(0):
            pass


# --- bad input ------------------------------------------------------------------------------------------------


# ---- confusing errors: devices --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["tpu", "meta", "CPU", "mps" if not torch.backends.mps.is_available() else "tpu"])
def test_rnnbook_device_is_validated_by_setup(monkeypatch, value, capsys):
    monkeypatch.setenv("RNNBOOK_DEVICE", value)
    with pytest.raises(ValueError, match=f"RNNBOOK_DEVICE='{value}' is not a device torch can use here.*available "
                                         "devices: cpu"):
        setup(0)


def test_device_names_suggest_the_lower_case_spelling():
    with pytest.raises(ValueError, match="did you mean 'cpu'"):
        check_device("CPU")


def test_empty_rnnbook_device_means_unset(monkeypatch):
    monkeypatch.setenv("RNNBOOK_DEVICE", "")
    assert get_device() == ("cuda" if torch.cuda.is_available() else "cpu")
