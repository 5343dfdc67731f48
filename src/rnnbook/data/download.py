"""The download layer: mirror -> cache -> download, every file checked by sha256.

Resolution order for a file of a dataset:

1. ``$RNNBOOK_DATA/<path>``, a local mirror folder (CI points it at ``../shared/data``);
2. the cache, ``$RNNBOOK_CACHE`` or ``~/.cache/rnnbook``;
3. a download from the file's URL, with a progress bar, verified, then renamed into the cache atomically.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from rnnbook.data.registry import DATASETS, Dataset, RemoteFile


class ChecksumError(ValueError):
    """A file's sha256 is not the one the registry expects."""


def get_dataset(name: str) -> Dataset:
    """Look a dataset up by name; an unknown name lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}") from None


def cache_dir() -> Path:
    """``$RNNBOOK_CACHE`` when set, else ``~/.cache/rnnbook``."""
    return Path(os.environ.get("RNNBOOK_CACHE", Path.home() / ".cache" / "rnnbook")).expanduser()


def mirror_dir() -> Path | None:
    """``$RNNBOOK_DATA`` when set (a folder laid out like the cache), else None."""
    value = os.environ.get("RNNBOOK_DATA")
    return Path(value).expanduser().resolve() if value else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, remote: RemoteFile) -> None:
    got = sha256_of(path)
    if got != remote.sha256:
        raise ChecksumError(
            f"checksum mismatch for {path}: expected sha256 {remote.sha256}, got {got}. "
            f"The file is damaged or not the one the book expects; delete it and fetch {remote.url} again."
        )


def _download(remote: RemoteFile, dest: Path, progress: bool = True) -> None:
    """Download ``remote`` to ``dest``: a temporary file in the same folder, verified, then renamed."""
    from tqdm.auto import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(remote.url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or remote.size)
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        _verify(tmp, remote)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(remote: RemoteFile, progress: bool = True) -> Path:
    """Return a local, verified path for one file (mirror, then cache, then download)."""
    mirror = mirror_dir()
    if mirror is not None and (mirror / remote.path).is_file():
        path = mirror / remote.path
        _verify(path, remote)
        return path
    cached = cache_dir() / remote.path
    if cached.is_file():
        try:
            _verify(cached, remote)
        except ChecksumError as err:
            cached.unlink()  # a damaged cache entry is removed, so the next call fetches it afresh
            raise ChecksumError(f"{err} (the damaged cached copy was deleted)") from None
        return cached
    try:
        _download(remote, cached, progress=progress)
    except (urllib.error.URLError, OSError) as err:
        where = f"the mirror {mirror} has no {remote.path}" if mirror else "RNNBOOK_DATA is not set"
        raise FileNotFoundError(
            f"could not get {remote.path!r}: {where}, it is not in the cache {cache_dir()}, "
            f"and the download from {remote.url} failed ({err}). Either download that URL by hand to "
            f"{cached}, or put the file in a folder at <folder>/{remote.path} and set "
            f"RNNBOOK_DATA=<folder> (the course mirror is ../shared/data)."
        ) from err
    return cached


def fetch_dataset(name: str, progress: bool = True) -> list[Path]:
    """Local, verified paths of every file of a named dataset."""
    dataset = get_dataset(name)
    try:
        return [fetch(remote, progress=progress) for remote in dataset.files]
    except FileNotFoundError as err:
        if len(dataset.files) == 1:
            raise
        raise FileNotFoundError(
            f"{err} The dataset {name!r} has {len(dataset.files)} files, all needed: a mirror holds each at "
            f"<folder>/<path>, paths and URLs in rnnbook.data.DATASETS[{name!r}].files and data/README.md."
        ) from err

