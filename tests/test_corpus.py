"""The pinned C corpus (git's builtin/[a-h]*.c at v2.50.0): served by the download layer like every corpus."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from rnnbook.data import load_text, registry

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("RNNBOOK_DATA") or ROOT.parent / "shared" / "data")  # as the Makefile sets it
# data/README.md of the course mirror: the 54 files concatenated in sorted path order
WHOLE_SHA256 = "6d3460921052e5c3dc6d919c9aec343548418db4cb47511f6115044ddd88ac7f"


def test_git_c_is_54_files_in_sorted_path_order_at_a_pinned_commit():
    files = registry.DATASETS["git-c"].files
    paths = [f.path for f in files]
    assert len(files) == 54 and paths == sorted(paths)
    assert all(re.fullmatch(r"git-builtin/builtin/[a-h][a-z0-9-]*\.c", p) for p in paths)
    assert all(f.url.startswith("https://raw.githubusercontent.com/git/git/16bd9f20a403117f2e0d9bcda6c6e621d3763e77/builtin/")
               and f.url.endswith(f.path.removeprefix("git-builtin/")) for f in files)
    assert sum(f.size for f in files) == 1_096_064


def test_git_c_matches_the_mirrors_checksum_list():
    sums = MIRROR / "git-builtin" / "SHA256SUMS"
    if not sums.is_file():
        pytest.skip(f"no course mirror at {MIRROR} (set RNNBOOK_DATA or put it beside the checkout)")
    listed = dict(reversed(line.split()) for line in sums.read_text().splitlines() if line.strip())
    assert {f"git-builtin/{p}": sha for p, sha in listed.items()} == {
        f.path: f.sha256 for f in registry.DATASETS["git-c"].files}


def test_load_text_git_c_is_the_files_back_to_back(monkeypatch):
    if not (MIRROR / "git-builtin").is_dir():
        pytest.skip(f"no course mirror at {MIRROR} (set RNNBOOK_DATA or put it beside the checkout)")
    monkeypatch.setenv("RNNBOOK_DATA", str(MIRROR))
    text = load_text("git-c", progress=False)
    assert hashlib.sha256(text.encode()).hexdigest() == WHOLE_SHA256
    assert len(text.encode()) == 1_096_064 and text.startswith("/*") and "#include" in text and "\t" in text


def test_a_missing_file_of_a_multi_file_dataset_says_how_to_get_them_all(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("rnnbook.data.download.urllib.request.urlopen",
                        lambda url, timeout: (_ for _ in ()).throw(OSError("network is unreachable")))
    with pytest.raises(FileNotFoundError) as err:
        load_text("git-c", progress=False)
    message = str(err.value)
    assert "git-builtin/builtin/add.c" in message and "RNNBOOK_DATA" in message
    assert "'git-c' has 54 files" in message and "data/README.md" in message
    assert not list((tmp_path / "cache").rglob("*.c"))  # nothing half-written is left behind
