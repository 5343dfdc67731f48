"""Tests of ``rnnbook.data.registry``: the datasets the book downloads: name -> files, each with its URL, sha256, size
and licence."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rnnbook.data import download, registry

ROOT = Path(__file__).resolve().parents[3]


MIRROR = Path(os.environ.get("RNNBOOK_DATA") or ROOT.parent / "shared" / "data")  # as the Makefile sets it


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


def test_the_shared_mirror_holds_the_registered_files():
    mirror = ROOT.parent / "shared" / "data"
    if not mirror.is_dir():
        pytest.skip(f"no course mirror at {mirror} (it stands beside the checkout in CI)")
    for dataset in registry.DATASETS.values():
        for remote in dataset.files:
            path = mirror / remote.path
            assert path.stat().st_size == remote.size, remote.path
            assert download.sha256_of(path) == remote.sha256, remote.path


def test_data_readme_lists_every_registered_file():
    readme = (ROOT / "data" / "README.md").read_text()
    for dataset in registry.DATASETS.values():
        for remote in dataset.files:
            assert remote.sha256 in readme and remote.url in readme, remote.path


def test_registry_urls_are_https_and_hashes_are_sha256():
    for dataset in registry.DATASETS.values():
        for remote in dataset.files:
            assert remote.url.startswith("https://")
            assert re.fullmatch(r"[0-9a-f]{64}", remote.sha256)
