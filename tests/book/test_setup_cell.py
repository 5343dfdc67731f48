"""The chapters' setup cell, run for real: where rnnbook is missing it installs it (here from a wheel, offline)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP_CELL = (ROOT / "tests" / "book" / "setup_cell.py").read_text()


def test_setup_cell_installs_rnnbook_from_a_wheel_offline(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True)
    (wheel,) = wheels.glob("rnnbook-*.whl")

    # A fresh environment without rnnbook, that sees numpy and torch through PYTHONPATH (like Colab's preinstalls).
    env_dir = tmp_path / "colab"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"], "RNNBOOK_INSTALL": str(wheel),
           "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("RNNBOOK_SCALE", None)
    env.pop("RNNBOOK_SEED", None)
    probe = subprocess.run([str(python), "-c", "import importlib.util; print(importlib.util.find_spec('rnnbook'))"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "None", "rnnbook must be missing before the cell runs"

    run = subprocess.run([str(python), "-c", SETUP_CELL + "\nprint(rnnbook.__file__)"], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "rnnbook: seed=0 device=" in run.stdout and "scale=ci" in run.stdout
    assert str(env_dir) in run.stdout, "rnnbook was imported from somewhere other than the fresh install"
