"""The data layer: mirror -> cache -> download, checksums, clear errors, Vocab and TBPTT streams."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from rnnbook.data import download, registry, text
from rnnbook.data import ChecksumError, Vocab, batchify, load_text, tbptt_batches, train_val_split
from rnnbook.data.registry import RemoteFile

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def toy(tmp_path, monkeypatch):
    """A registry with one small dataset whose URL cannot be reached, an empty cache and an empty mirror."""
    body = "hello world\n".encode()
    remote = RemoteFile("toy/hello.txt", "http://127.0.0.1:9/hello.txt", hashlib.sha256(body).hexdigest(), len(body))
    monkeypatch.setitem(registry.DATASETS, "toy", registry.Dataset("toy", (remote,), "CC0", "a toy"))
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RNNBOOK_DATA", str(tmp_path / "mirror"))
    return body, remote, tmp_path


def test_mirror_is_used_and_checked(toy):
    body, remote, tmp = toy
    (tmp / "mirror" / "toy").mkdir(parents=True)
    (tmp / "mirror" / "toy" / "hello.txt").write_bytes(body)
    assert load_text("toy") == "hello world\n"


def test_offline_without_mirror_says_which_file_and_how(toy, monkeypatch):
    monkeypatch.delenv("RNNBOOK_DATA")
    with pytest.raises(FileNotFoundError) as err:
        load_text("toy")
    message = str(err.value)
    assert "toy/hello.txt" in message and "http://127.0.0.1:9/hello.txt" in message and "RNNBOOK_DATA" in message


def test_checksum_mismatch_reports_both_hashes(toy):
    body, remote, tmp = toy
    (tmp / "mirror" / "toy").mkdir(parents=True)
    bad = tmp / "mirror" / "toy" / "hello.txt"
    bad.write_bytes(b"goodbye world\n")
    with pytest.raises(ChecksumError) as err:
        load_text("toy")
    assert remote.sha256 in str(err.value) and hashlib.sha256(b"goodbye world\n").hexdigest() in str(err.value)


def test_damaged_cache_entry_is_moved_aside_never_deleted(toy, monkeypatch):
    body, remote, tmp = toy
    monkeypatch.delenv("RNNBOOK_DATA")
    cached = tmp / "cache" / "toy" / "hello.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"damaged")
    with pytest.raises(FileNotFoundError, match="moved aside") as err:  # offline: the damaged copy is kept aside
        load_text("toy")
    assert "deleted" not in str(err.value)
    assert not cached.exists() and (cached.parent / "hello.txt.corrupt").read_bytes() == b"damaged"


def test_download_verifies_and_renames_atomically(toy, monkeypatch):
    body, remote, tmp = toy
    monkeypatch.delenv("RNNBOOK_DATA")

    class Response:
        def __init__(self, payload):
            self.chunks = [payload, b""]
            self.headers = {"Content-Length": str(len(payload))}

        def read(self, n):
            return self.chunks.pop(0)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: Response(body))
    assert load_text("toy", progress=False) == "hello world\n"
    assert (tmp / "cache" / "toy" / "hello.txt").read_bytes() == body

    (tmp / "cache" / "toy" / "hello.txt").unlink()
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: Response(b"tampered"))
    with pytest.raises(ChecksumError):
        load_text("toy", progress=False)
    left = [p.name for p in (tmp / "cache" / "toy").iterdir()]
    assert left == ["hello.txt.lock"]  # no partial file is left behind, only the (empty) lock file


def test_a_verified_cached_file_is_served_without_writing_to_the_cache(toy, monkeypatch):
    """A good file already in the cache is returned as is: no lock file, no probe, nothing written there."""
    body, remote, tmp = toy
    monkeypatch.delenv("RNNBOOK_DATA")
    cached = tmp / "cache" / "toy" / "hello.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(body)
    assert load_text("toy") == "hello world\n"
    assert [p.name for p in cached.parent.iterdir()] == ["hello.txt"]


def test_single_file_error_has_no_file_count_and_multi_file_error_names_it(toy, monkeypatch):
    """The dataset-level note ("has N files, all needed") only helps when there are several files."""
    body, remote, tmp = toy
    monkeypatch.delenv("RNNBOOK_DATA")
    with pytest.raises(FileNotFoundError) as err:
        load_text("toy")
    assert "toy/hello.txt" in str(err.value) and "1 files" not in str(err.value)
    other = RemoteFile("toy/world.txt", "http://127.0.0.1:9/world.txt", remote.sha256, remote.size)
    monkeypatch.setitem(registry.DATASETS, "toy2", registry.Dataset("toy2", (remote, other), "CC0", "two files"))
    with pytest.raises(FileNotFoundError, match="has 2 files, all needed"):
        download.fetch_dataset("toy2", progress=False)


def test_download_progress_bar_counts_bytes_in_scaled_units(toy, monkeypatch, capsys):
    """A 300 kB download is counted as 300k (bytes), not as 300000 (a reader cannot count the zeros of 100 MB).
    The toy fixture gives an empty cache."""
    monkeypatch.delenv("RNNBOOK_DATA")
    payload = bytes(300_000)
    remote = RemoteFile("toy/zeros.bin", "http://127.0.0.1:9/zeros.bin", hashlib.sha256(payload).hexdigest(),
                        len(payload))

    class Response:
        def __init__(self):
            self.headers, self.sent = {"Content-Length": str(len(payload))}, 0

        def read(self, n):
            block = payload[self.sent : self.sent + n]
            self.sent += len(block)
            return block

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: Response())
    assert download.fetch(remote).read_bytes() == payload  # progress is on by default
    shown = capsys.readouterr().err
    assert "300k/300k" in shown and "300000" not in shown


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="tinyshakespeare") as err:
        load_text("shakespeare")
    assert "stacks-latex" in str(err.value) and "git-c" in str(err.value)


def test_empty_and_non_utf8_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        text.read_text(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf".encode() + b"\xe9 au lait")
    with pytest.raises(ValueError, match=r"offset 3") as err:
        text.read_text(latin)
    assert "latin.txt" in str(err.value) and "0xe9" in str(err.value)
    with pytest.raises(FileNotFoundError):
        text.read_text(tmp_path / "missing.txt")


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


def test_vocab_is_sorted_and_round_trips():
    v = Vocab.from_text("hello")
    assert v.itos == ["e", "h", "l", "o"]
    ids = v.encode("hello")
    assert ids.tolist() == [1, 0, 2, 2, 3]
    assert v.decode(ids) == "hello"


def test_vocab_errors_are_clear():
    v = Vocab.from_text("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2"):
        v.encode("abz")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        v.decode([3])
    with pytest.raises(ValueError, match="empty"):
        Vocab.from_text("")


def test_batchify_rows_are_contiguous_and_chunks_continue():
    ids = np.arange(103)
    rows = batchify(ids, 4)
    assert rows.shape == (4, 25)
    assert all(np.all(np.diff(row) == 1) for row in rows)
    chunks = list(tbptt_batches(ids, batch_size=4, seq_len=7))
    x = np.concatenate([c[0] for c in chunks], axis=1)
    y = np.concatenate([c[1] for c in chunks], axis=1)
    np.testing.assert_array_equal(x, rows[:, :-1])  # chunk k+1 starts where chunk k stopped
    np.testing.assert_array_equal(y, rows[:, 1:])  # targets are the next ids
    assert [c[0].shape[1] for c in chunks] == [7, 7, 7, 3]


def test_stream_errors():
    with pytest.raises(ValueError, match="too short"):
        batchify(np.arange(5), 4)
    with pytest.raises(ValueError, match="1-D"):
        batchify(np.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match="seq_len"):
        next(tbptt_batches(np.arange(50), 2, 0))


def test_train_val_split_is_a_prefix_cut():
    train, val = train_val_split(np.arange(100), 0.9)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError):
        train_val_split(np.arange(10), 1.0)


def test_registry_urls_are_https_and_hashes_are_sha256():
    for dataset in registry.DATASETS.values():
        for remote in dataset.files:
            assert remote.url.startswith("https://")
            assert re.fullmatch(r"[0-9a-f]{64}", remote.sha256)
