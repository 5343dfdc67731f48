"""The download layer: mirror -> cache -> download, every file checked by sha256.

Resolution order for a file of a dataset:

1. ``$RNNBOOK_DATA/<path>``, a local mirror folder (CI points it at ``../shared/data``);
2. the cache, ``$RNNBOOK_CACHE`` or ``~/.cache/rnnbook`` (an empty variable counts as unset);
3. a download from the file's URL, with a progress bar, into ``<path>.part``, checked for its size and sha256,
   then renamed into the cache atomically (mode 0644, as any file you save).

The cache is never emptied behind your back: a cached file whose checksum does not match is moved aside to
``<path>.corrupt`` (never deleted: ``$RNNBOOK_CACHE`` may point at a folder with your own files) and fetched
again. A download holds a lock, ``<path>.lock``, so that two processes filling an empty cache download the file
once: the second waits, then finds it in the cache. Leftover ``.part`` files of killed downloads are removed by
the next download of the same file. A download cut short (or timed out) is tried ``RETRIES`` times in all.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from rnnbook.data.registry import DATASETS, Dataset, RemoteFile

try:  # a lock that the operating system releases when its process dies (Unix; elsewhere downloads are unlocked)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

RETRIES = 3  # attempts per download: the first and two more after a connection error or a short read
RETRY_WAIT = 1.0  # seconds before the second attempt, doubled before each later one
TIMEOUT = 30.0  # seconds without an answer from the server before an attempt fails


class ChecksumError(ValueError):
    """A file's sha256 is not the one the registry expects."""


def get_dataset(name: str) -> Dataset:
    """Look a dataset up by name; an unknown name lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name!r}; known datasets: {known}") from None


def _env_path(name: str) -> Path | None:
    """The folder named by an environment variable; unset, empty or blank -> None."""
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """``$RNNBOOK_CACHE`` when set (and not empty), else ``~/.cache/rnnbook``."""
    return _env_path("RNNBOOK_CACHE") or Path.home() / ".cache" / "rnnbook"


def mirror_dir() -> Path | None:
    """``$RNNBOOK_DATA`` when set and not empty (a folder laid out like the cache), else None."""
    path = _env_path("RNNBOOK_DATA")
    return path.resolve() if path is not None else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, remote: RemoteFile, remedy: str | None = None) -> None:
    got = sha256_of(path)
    if got != remote.sha256:
        remedy = remedy or f"delete it and fetch {remote.url} again"
        raise ChecksumError(
            f"checksum mismatch for {path}: expected sha256 {remote.sha256}, got {got}. "
            f"The file is damaged or not the one the book expects; {remedy}."
        )


def _aside(path: Path) -> Path:
    """Move a damaged file to ``<name>.corrupt`` (``.corrupt.1``, ... when taken) and return where it went."""
    target = path.with_name(path.name + ".corrupt")
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt.{n}")
    os.replace(path, target)
    return target


def _writable_folder(folder: Path) -> None:
    """Create ``folder``; a folder that cannot be created or written is named as the cache's problem."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".rnnbook-write-test-")  # a unique name: threads too
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise PermissionError(
            f"the cache folder {folder} cannot be written ({err.strerror or err}); set RNNBOOK_CACHE to a folder "
            "you can write, or RNNBOOK_DATA to a folder that holds the data (the course mirror is ../shared/data)"
        ) from err


@contextmanager
def _lock(dest: Path):
    """Hold ``<dest>.lock`` while the block runs: one process downloads a file, the others wait for it."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(dest.with_name(dest.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class ShortDownload(OSError):
    """The server closed the connection before sending the whole file."""


def _download_once(remote: RemoteFile, part: Path, progress: bool) -> None:
    """One attempt: stream the URL into ``part`` (created 0644, as umask allows) and check its size."""
    from tqdm.auto import tqdm

    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    got = 0
    with os.fdopen(fd, "wb") as out, urllib.request.urlopen(remote.url, timeout=TIMEOUT) as response:
        total = int(response.headers.get("Content-Length") or remote.size)
        with tqdm(total=total, unit="B", unit_scale=True, desc=part.name, disable=not progress) as bar:
            try:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    got += len(block)
                    bar.update(len(block))
            except http.client.IncompleteRead as err:
                got += len(err.partial)
    if got < total:  # the connection ended early: worth another attempt
        raise ShortDownload(f"the download stopped after {got:,} of {total:,} bytes")
    if got != remote.size:  # a whole file, but not this one: no retry
        raise ChecksumError(f"{remote.url} sent {got:,} bytes, but the file the book expects has {remote.size:,} "
                            f"(sha256 {remote.sha256}); the URL serves another file: download it by hand and "
                            "compare, or use the course mirror (RNNBOOK_DATA)")


def _transient(err: OSError) -> bool:
    """A short read, a timeout or a dropped connection: worth another attempt (a 404 or an unknown host is not)."""
    reason = getattr(err, "reason", err) if not isinstance(err, urllib.error.HTTPError) else None
    return isinstance(reason, (ShortDownload, TimeoutError, ConnectionResetError, ConnectionAbortedError))


def _download(remote: RemoteFile, dest: Path, progress: bool = True) -> None:
    """Download ``remote`` to ``dest``: into ``<dest>.part``, size and sha256 checked, then renamed.

    Short reads, timeouts and dropped connections are retried (``RETRIES`` attempts in all); a wrong checksum, an
    HTTP error such as 404 or an unknown host is not. No ``.part`` file is left behind, whatever happens.
    """
    part = dest.with_name(dest.name + ".part")
    for stale in dest.parent.glob(f"{dest.name}*.part"):  # killed downloads of this file (we hold its lock)
        stale.unlink(missing_ok=True)
    try:
        for attempt in range(1, RETRIES + 1):
            try:
                _download_once(remote, part, progress)
                break
            except (urllib.error.URLError, OSError) as err:
                if attempt == RETRIES or not _transient(err):
                    raise
                time.sleep(RETRY_WAIT * 2 ** (attempt - 1))
        _verify(part, remote, remedy=f"the server at {remote.url} sent another file; download it by hand and compare")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def fetch(remote: RemoteFile, progress: bool = True) -> Path:
    """Return a local, verified path for one file (mirror, then cache, then download)."""
    mirror = mirror_dir()
    if mirror is not None and (mirror / remote.path).is_file():
        path = mirror / remote.path
        _verify(path, remote, remedy=f"replace it in the mirror {mirror} with a good copy of {remote.url}")
        return path
    cached = cache_dir() / remote.path
    if cached.is_file() and sha256_of(cached) == remote.sha256:
        return cached
    _writable_folder(cached.parent)
    with _lock(cached):
        moved = None
        if cached.is_file():  # damaged, or another process finished it while we waited for the lock
            if sha256_of(cached) == remote.sha256:
                return cached
            moved = _aside(cached)
        try:
            _download(remote, cached, progress=progress)
        except (urllib.error.URLError, OSError) as err:
            where = f"the mirror {mirror} has no {remote.path}" if mirror else "RNNBOOK_DATA is not set"
            state = (f"its cached copy was damaged (moved aside to {moved})" if moved
                     else f"it is not in the cache {cache_dir()}")
            raise FileNotFoundError(
                f"could not get {remote.path!r}: {where}, {state}, "
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
