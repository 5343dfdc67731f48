"""Tests of ``rnnbook.data.download``: the download layer: mirror -> cache -> download, every file checked by sha256."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnbook.data import ChecksumError, download, load_text, registry
from rnnbook.data.registry import RemoteFile


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


# --- bad input ------------------------------------------------------------------------------------------------


# ---- an empty RNNBOOK_CACHE is unset; nothing is ever deleted ---------------------------------------------------

def test_6_empty_cache_variable_means_the_default_cache(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNBOOK_CACHE", "")
    assert download.cache_dir() == tmp_path / "home" / ".cache" / "rnnbook"
    monkeypatch.setenv("RNNBOOK_DATA", "  ")
    assert download.mirror_dir() is None


def test_6_a_file_with_the_wrong_checksum_is_moved_aside_not_deleted(tmp_path, monkeypatch):
    body = b"the real file\n"
    import hashlib
    remote = registry.RemoteFile("mine.txt", "http://127.0.0.1:9/mine.txt", hashlib.sha256(body).hexdigest(), len(body))
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    monkeypatch.delenv("RNNBOOK_DATA", raising=False)
    (tmp_path / "mine.txt").write_text("a student's own notes")
    with pytest.raises(FileNotFoundError, match="moved aside"):
        download.fetch(remote, progress=False)
    assert (tmp_path / "mine.txt.corrupt").read_text() == "a student's own notes"


REAL_CONNECT, REAL_CREATE = socket.socket.connect, socket.create_connection  # before conftest's network guard


SERVER_LIFETIME = 60.0


BODY = b"".join(f"line {i}: the quick brown fox jumps over the lazy dog\n".encode() for i in range(2000))


class Server:
    """What the server does per path: ``"ok"``, ``"short"`` (announces the whole file, sends half, hangs up),
    ``"flaky"`` (short the first time, whole after), ``"slow"`` (whole, after a pause), ``"404"``, ``"other"``
    (a whole file that is not BODY), ``"samesize"`` (as long as BODY, one byte differs). ``hits`` counts the GET requests per path."""

    def __init__(self):
        self.modes: dict[str, str] = {}
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                with server.lock:
                    n = server.hits[self.path] = server.hits.get(self.path, 0) + 1
                mode = server.modes.get(self.path, "404")
                if mode == "flaky":
                    mode = "short" if n == 1 else "ok"
                if mode == "404":
                    self.send_error(404)
                    return
                body = {"other": b"something else entirely\n", "samesize": BODY[:-2] + b"?\n"}.get(mode, BODY)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "slow":
                    time.sleep(0.5)
                self.wfile.write(body[: len(body) // 2] if mode == "short" else body)
                self.wfile.flush()
                if mode == "short":
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.timer = threading.Timer(SERVER_LIFETIME, self.httpd.shutdown)  # stops by itself, whatever happens
        self.timer.daemon = True
        self.timer.start()

    def remote(self, name: str, mode: str = "ok") -> RemoteFile:
        self.modes[f"/{name}"] = mode
        return RemoteFile(f"sub/{name}", f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}",
                          hashlib.sha256(BODY).hexdigest(), len(BODY))

    def stop(self):
        self.timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()


def _loopback_only(monkeypatch):
    def connect(sock, address):
        if address[0] not in ("127.0.0.1", "localhost"):
            raise OSError("network access attempted during a unit test")
        return REAL_CONNECT(sock, address)

    def create(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "localhost"):
            raise OSError("network access attempted during a unit test")
        return REAL_CREATE(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(download, "TIMEOUT", 5.0)
    monkeypatch.setattr(download, "RETRY_WAIT", 0.0)
    monkeypatch.delenv("RNNBOOK_DATA", raising=False)


@pytest.fixture()
def server(monkeypatch, tmp_path):
    _loopback_only(monkeypatch)
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path / "cache"))
    srv = Server()
    yield srv
    srv.stop()


def cached(tmp_path: Path, remote: RemoteFile) -> Path:
    return tmp_path / "cache" / remote.path


# ---- missing --------------------------------------------------------------------------------------------------------

def test_missing_file_is_downloaded_once_with_mode_0644(server, tmp_path):
    remote = server.remote("a.txt")
    old = os.umask(0o022)
    try:
        path = download.fetch(remote, progress=False)
    finally:
        os.umask(old)
    assert path == cached(tmp_path, remote) and path.read_bytes() == BODY
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert download.fetch(remote, progress=False) == path and server.hits == {"/a.txt": 1}  # the cache answers


# ---- partial --------------------------------------------------------------------------------------------------------

def test_orphaned_part_files_are_cleaned_by_the_next_download(server, tmp_path):
    remote = server.remote("b.txt")
    folder = cached(tmp_path, remote).parent
    folder.mkdir(parents=True)
    for name in ("b.txt.part", "b.txtk3j9x.part"):  # this version's name and the old random one
        (folder / name).write_bytes(b"half a fi")
    download.fetch(remote, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["b.txt", "b.txt.lock"]


def test_a_download_cut_short_is_retried(server, tmp_path):
    remote = server.remote("c.txt", "flaky")
    assert download.fetch(remote, progress=False).read_bytes() == BODY
    assert server.hits["/c.txt"] == 2


def test_a_download_always_cut_short_says_so_without_naming_a_deleted_part_file(server, tmp_path):
    remote = server.remote("d.txt", "short")
    with pytest.raises(FileNotFoundError) as err:
        download.fetch(remote, progress=False)
    message = str(err.value)
    assert f"stopped after {len(BODY) // 2:,} of {len(BODY):,} bytes" in message and ".part" not in message
    assert "RNNBOOK_DATA" in message and remote.url in message
    assert server.hits["/d.txt"] == download.RETRIES
    assert [p.name for p in cached(tmp_path, remote).parent.iterdir()] == ["d.txt.lock"]


def test_a_missing_url_is_not_retried(server, tmp_path):
    remote = server.remote("e.txt", "404")
    with pytest.raises(FileNotFoundError, match="HTTP Error 404"):
        download.fetch(remote, progress=False)
    assert server.hits["/e.txt"] == 1


def test_a_url_that_serves_another_file_is_a_checksum_error(server, tmp_path):
    remote = server.remote("f.txt", "other")
    with pytest.raises(download.ChecksumError, match="serves another file"):
        download.fetch(remote, progress=False)
    assert server.hits["/f.txt"] == 1 and not cached(tmp_path, remote).exists()


# ---- damaged --------------------------------------------------------------------------------------------------------

def test_a_damaged_entry_is_moved_aside_and_fetched_again_in_one_call(server, tmp_path):
    remote = server.remote("g.txt")
    path = cached(tmp_path, remote)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"damaged")
    (path.parent / "g.txt.corrupt").write_bytes(b"an older damaged copy")
    assert download.fetch(remote, progress=False).read_bytes() == BODY
    assert (path.parent / "g.txt.corrupt").read_bytes() == b"an older damaged copy"
    assert (path.parent / "g.txt.corrupt.1").read_bytes() == b"damaged"


def test_a_damaged_mirror_file_is_reported_and_left_alone(server, tmp_path, monkeypatch):
    remote = server.remote("h.txt")
    mirror = tmp_path / "mirror"
    (mirror / "sub").mkdir(parents=True)
    (mirror / remote.path).write_bytes(b"damaged")
    monkeypatch.setenv("RNNBOOK_DATA", str(mirror))
    with pytest.raises(download.ChecksumError, match="replace it in the mirror"):
        download.fetch(remote, progress=False)
    assert (mirror / remote.path).read_bytes() == b"damaged" and server.hits == {}


# ---- unwritable -----------------------------------------------------------------------------------------------------

def test_an_unwritable_cache_folder_is_named_as_such(server, tmp_path, monkeypatch):
    remote = server.remote("i.txt")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("RNNBOOK_CACHE", str(blocker / "cache"))  # a folder under a file: cannot be created, even by root
    with pytest.raises(PermissionError) as err:
        download.fetch(remote, progress=False)
    message = str(err.value)
    assert f"the cache folder {blocker / 'cache' / 'sub'} cannot be written" in message and "RNNBOOK_CACHE" in message
    assert "download" not in message and server.hits == {}


# ---- concurrent -----------------------------------------------------------------------------------------------------

def test_two_fills_of_an_empty_cache_download_once(server, tmp_path):
    remote = server.remote("j.txt", "slow")
    results, errors = [], []

    def fill():
        try:
            results.append(download.fetch(remote, progress=False))
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=fill) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors and len(results) == 3 and all(p.read_bytes() == BODY for p in results)
    assert server.hits == {"/j.txt": 1}


# ---- properties -----------------------------------------------------------------------------------------------------

STATES = st.sampled_from(["missing", "good", "damaged", "empty", "part", "damaged+part"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=STATES, mode=st.sampled_from(["ok", "flaky", "short", "404", "other"]), aside=st.booleans())
def test_property_cache_states(monkeypatch, state, mode, aside):
    """Whatever the cache holds and whatever the server does: either a verified file comes back, or an error that
    names the file and what to do; no .part file is left; no bytes that were in the cache are lost."""
    _loopback_only(monkeypatch)
    srv = Server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            monkeypatch.setenv("RNNBOOK_CACHE", str(Path(tmp) / "cache"))
            remote = srv.remote("p.txt", mode)
            path = Path(tmp) / "cache" / remote.path
            path.parent.mkdir(parents=True)
            before = {"good": BODY, "damaged": b"damaged bytes", "empty": b"", "damaged+part": b"damaged bytes"}
            if state in before:
                path.write_bytes(before[state])
            if "part" in state:
                path.with_name("p.txt.part").write_bytes(b"half")
            if aside:
                path.with_name("p.txt.corrupt").write_bytes(b"kept")
            try:
                got = download.fetch(remote, progress=False)
                assert got == path and got.read_bytes() == BODY
            except (FileNotFoundError, download.ChecksumError) as err:
                assert state != "good" and mode not in ("ok", "flaky")
                assert remote.path in str(err) or remote.url in str(err)
            names = sorted(p.name for p in path.parent.iterdir())
            assert not [n for n in names if n.endswith(".part")]
            kept = sorted(p.read_bytes() for p in path.parent.glob("p.txt.corrupt*"))
            expect = sorted(([b"kept"] if aside else []) + ([before[state]] if state in before and state != "good"
                                                              else []))
            assert kept == expect
            hits = srv.hits.get("/p.txt", 0)
            assert hits == 0 if state == "good" else 1 <= hits <= download.RETRIES
    finally:
        srv.stop()


def test_retries_wait_longer_each_time_and_pass_the_timeout(server, tmp_path, monkeypatch):
    remote = server.remote("k.txt", "short")
    waits, timeouts = [], []
    real_urlopen = download.urllib.request.urlopen
    monkeypatch.setattr(download, "RETRY_WAIT", 0.25)
    monkeypatch.setattr(download.time, "sleep", waits.append)
    monkeypatch.setattr(download.urllib.request, "urlopen",
                        lambda url, timeout: timeouts.append(timeout) or real_urlopen(url, timeout=timeout))
    with pytest.raises(FileNotFoundError, match="stopped after"):
        download.fetch(remote, progress=False)
    assert waits == [0.25, 0.5] and timeouts == [download.TIMEOUT] * download.RETRIES


def test_an_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown dataset 'nope'; known datasets: .*tinyshakespeare"):
        download.fetch_dataset("nope")
    assert download.get_dataset("tinyshakespeare").name == "tinyshakespeare"


def test_a_file_of_the_right_size_but_other_bytes_is_refused(server, tmp_path):
    remote = server.remote("l.txt", "samesize")
    with pytest.raises(download.ChecksumError, match="sent another file"):
        download.fetch(remote, progress=False)
    assert server.hits["/l.txt"] == 1 and not cached(tmp_path, remote).exists()


def test_the_default_cache_is_under_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("RNNBOOK_CACHE", raising=False)
    assert download.cache_dir() == tmp_path / ".cache" / "rnnbook"
    monkeypatch.setenv("RNNBOOK_CACHE", "~/elsewhere")
    assert download.cache_dir() == tmp_path / "elsewhere"


def test_a_read_cut_by_incomplete_read_counts_what_arrived(monkeypatch, tmp_path):
    import http.client

    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    monkeypatch.setattr(download, "RETRY_WAIT", 0.0)
    remote = RemoteFile("m.txt", "http://127.0.0.1:9/m.txt", hashlib.sha256(BODY).hexdigest(), len(BODY))

    class Response:
        headers = {"Content-Length": str(len(BODY))}

        def __init__(self):
            self.sent = False

        def read(self, n):
            if self.sent:
                raise http.client.IncompleteRead(b"x" * 7, len(BODY) - 107)
            self.sent = True
            return b"y" * 100

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: Response())
    with pytest.raises(FileNotFoundError, match=f"stopped after 107 of {len(BODY):,} bytes"):
        download.fetch(remote, progress=False)


def test_no_file_descriptor_is_left_open(server, tmp_path):
    remote = server.remote("n.txt")
    download.fetch(remote, progress=False)  # the first call opens what stays open (imports, the lock module)
    path = cached(tmp_path, remote)
    path.unlink()
    before = len(os.listdir("/proc/self/fd"))
    download.fetch(remote, progress=False)
    for _ in range(40):  # the server thread may close its end of the connection a moment later
        if len(os.listdir("/proc/self/fd")) <= before:
            break
        time.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) <= before


def test_progress_bar_only_when_asked_and_lock_file_mode(server, tmp_path, capfd):
    remote = server.remote("o.txt")
    old = os.umask(0o022)
    try:
        download.fetch(remote, progress=False)
        assert capfd.readouterr().err == ""
        cached(tmp_path, remote).unlink()
        download.fetch(remote)  # progress=True by default: a bar on stderr
        assert "o.txt.part" in capfd.readouterr().err
        lock = cached(tmp_path, remote).with_name("o.txt.lock")
        assert stat.S_IMODE(lock.stat().st_mode) == 0o644
    finally:
        os.umask(old)


def test_without_fcntl_downloads_still_work(server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "fcntl", None)  # as on Windows: no lock, the rest unchanged
    remote = server.remote("q.txt")
    assert download.fetch(remote, progress=False).read_bytes() == BODY
    assert not cached(tmp_path, remote).with_name("q.txt.lock").exists()
