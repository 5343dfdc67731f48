"""tools/colab_check.py: the Colab-like environment itself (the kernels get no pinned threads, no mirror, and the
wheel)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec_check = importlib.util.spec_from_file_location("colab_check", ROOT / "tools" / "colab_check.py")
check = importlib.util.module_from_spec(spec_check)
spec_check.loader.exec_module(check)


def test_the_kernels_get_no_pinned_threads_no_mirror_and_the_wheel(tmp_path, monkeypatch):
    monkeypatch.setattr(check, "ENV_BEFORE", {"PATH": "/usr/bin", "HOME": "/root", "OMP_NUM_THREADS": "1",
                                              "MKL_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
                                              "RNNBOOK_DATA": "/mirror", "PYTHONPATH": "/repo/src"})
    env = check.kernel_env(tmp_path / "rnnbook.whl", tmp_path / "cache", tmp_path / "venv")
    assert not {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "RNNBOOK_DATA", "PYTHONPATH"} & set(env)
    assert env["RNNBOOK_INSTALL"] == str(tmp_path / "rnnbook.whl") and env["RNNBOOK_CACHE"] == str(tmp_path / "cache")
    assert env["PATH"].startswith(str(tmp_path / "venv" / "bin")) and env["HOME"] == "/root"
    passive = check.kernel_env(tmp_path / "w.whl", tmp_path / "cache", tmp_path / "venv", passive=True)
    assert passive["OMP_WAIT_POLICY"] == "PASSIVE" and "OMP_NUM_THREADS" not in passive


def test_the_cache_is_filled_from_a_read_only_mirror_and_stays_writable(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "stacks-project").mkdir(parents=True)
    (mirror / "tinyshakespeare.txt").write_text("First Citizen:\n")
    (mirror / "stacks-project" / "schemes.tex").write_text("\\section{Schemes}\n")
    for path in (mirror / "stacks-project" / "schemes.tex", mirror / "tinyshakespeare.txt", mirror / "stacks-project"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    cache = tmp_path / "cache"
    assert check.fill_cache(mirror, cache) == 2
    assert (cache / "stacks-project" / "schemes.tex").read_text() == "\\section{Schemes}\n"
    for path in (cache / "stacks-project", cache / "stacks-project" / "schemes.tex"):
        assert path.stat().st_mode & 0o200, f"{path} must stay writable (a download writes there; reruns delete it)"
    assert check.fill_cache(mirror, cache) == 2  # and a rerun replaces the cache
    (mirror / "stacks-project").chmod(0o755)
