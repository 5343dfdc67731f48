"""`make colab-check`: every chapter executed as a student in Colab would run it, claims compared with `make test`'s.

1. build the rnnbook wheel (no dependencies, no network);
2. make a fresh virtual environment with another Python (3.12, Colab's) holding only the notebook runtime
   (ipykernel) and torch, at the version requirements.txt pins (Colab brings its own torch; everything else pip
   resolves from pyproject.toml's loose bounds: newer numpy, scipy, scikit-learn... than requirements.txt);
3. fill a data cache (RNNBOOK_CACHE) with the mirror's files, as the first downloads would leave it, and leave
   RNNBOOK_DATA unset;
4. execute every chapter in that environment, one at a time, in an empty working folder, with the threads left
   at their default (no OMP_NUM_THREADS: torch and BLAS use every core, as in Colab); before each chapter rnnbook
   is uninstalled, so that each chapter's setup cell installs the wheel through RNNBOOK_INSTALL, as on a fresh
   Colab runtime;
5. compare each chapter's claims with the pinned run's (_build/executed/, kept by `make test`): the same claims
   hold and their numbers agree within tools/colab_compare.py's tolerance, timings excepted. One table per chapter.

Run by the Makefile's shared venv (it drives the kernels with its nbclient; the kernels run in the new venv):

    .venv/bin/python tools/colab_check.py [--python python3.12] [chapter-stem ...]

Exit status 1 when a chapter fails or its claims differ. The venv's wheels are kept in ~/.cache/rnnbook-colab-check
(pip's own cache does not keep them on every machine): a fresh machine downloads torch (a CUDA build from PyPI,
2.9 GB with its libraries) once, a rerun installs from there.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from colab_compare import ATOL, RTOL, compare_dirs, format_table  # noqa: E402

ENV_BEFORE = dict(os.environ)  # the environment this run started with (kernels get it less DROP)
from kernel_poll import poll_kernel_replies_in_slices  # noqa: E402  (jupyter/nbclient#312)

poll_kernel_replies_in_slices()

BUILD = ROOT / "_build" / "colab"
# What a Colab-like run must not inherit from CI or from the tests: pinned thread counts, the mirror, the repo's src.
DROP = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY", "RNNBOOK_DATA",
        "RNNBOOK_SCALE", "RNNBOOK_DEVICE", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_PATH", "MPLBACKEND")
CELL_TIMEOUT = 600  # seconds; the chapters' own budget is 120 s on 2 cores


def default_python() -> str:
    """Python 3.12: pyenv's newest 3.12, else python3.12 on PATH (a pyenv shim may not run: each one is tried)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(p) for p in sorted(root.glob("versions/3.12.*/bin/python"), reverse=True)]
    candidates += [found for found in [shutil.which("python3.12")] if found]
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == "True":
            return candidate
    raise SystemExit("colab-check: no Python 3.12 found (~/.pyenv/versions/3.12.* or python3.12 on PATH); "
                     "pass --python /path/to/python3.12")


def pinned_torch() -> str:
    match = re.search(r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    if not match:
        raise SystemExit("colab-check: requirements.txt pins no torch==<version>")
    return f"torch=={match.group(1)}"


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def cpu_seconds() -> float:
    """CPU time of this process and of every finished child (a kernel, pip): what a step costs on a loaded machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Timer:
    """Wall and CPU seconds of each step (the CPU time tells the cost when other work shares the cores)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float, float]] = []

    def __call__(self, name: str):
        timer = self

        class _Step:
            def __enter__(self):
                self.start, self.cpu = time.perf_counter(), cpu_seconds()

            def __exit__(self, *exc):
                timer.steps.append((name, time.perf_counter() - self.start, cpu_seconds() - self.cpu))
                print(f"colab-check: {name}: {timer.steps[-1][1]:.0f} s ({timer.steps[-1][2]:.0f} s CPU)", flush=True)

        return _Step()


def build_wheel(out: Path) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        env={**ENV_BEFORE, "PIP_NO_INDEX": "1"})
    (wheel,) = out.glob("rnnbook-*.whl")
    return wheel


def make_venv(python: str, venv: Path, packages: list[str], wheels: Path, reuse: bool = False) -> Path:
    """A fresh venv with ``packages`` only. Their wheels are downloaded into ``wheels`` first and installed from
    there: pip's own cache does not keep them on every machine, and torch with its CUDA libraries is 2.9 GB."""
    vpy = venv / "bin" / "python"
    if reuse and subprocess.run([str(vpy), "-c", "import ipykernel, torch"], capture_output=True).returncode == 0:
        print(f"colab-check: re-using {venv} (--reuse-venv)")
        return vpy
    shutil.rmtree(venv, ignore_errors=True)
    run([python, "-m", "venv", str(venv)])
    run([str(vpy), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    wheels.mkdir(parents=True, exist_ok=True)
    run([str(vpy), "-m", "pip", "download", "-q", "-d", str(wheels), *packages])  # skips the files already there
    run([str(vpy), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels), *packages])
    return vpy


def write_kernelspec(vpy: Path, jupyter_dir: Path) -> str:
    """A kernelspec for the new venv's Python in a private JUPYTER_PATH folder, named after the venv."""
    name = "rnnbook-colab-check"
    spec = jupyter_dir / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
        '"display_name": "colab-check", "language": "python"}\n' % vpy)
    os.environ["JUPYTER_PATH"] = str(jupyter_dir)
    return name


def fill_cache(mirror: Path, cache: Path) -> int:
    """Copy the mirror's files into ``cache``: the cache and the mirror have one layout (``<dataset path>``), so this
    is what the first downloads of every dataset leave behind. The download layer checks each file's sha256 when a
    chapter reads it from the cache, as it does after a real download."""
    if not mirror.is_dir():
        raise SystemExit(f"colab-check: no data mirror at {mirror}; set RNNBOOK_DATA to the mirror folder")
    shutil.rmtree(cache, ignore_errors=True)
    count = 0
    for source in sorted(mirror.rglob("*")):
        if source.is_file():  # copyfile, not copytree: CI's mirror is read-only, a cache must stay writable
            dest = cache / source.relative_to(mirror)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            count += 1
    return count


def kernel_env(wheel: Path, cache: Path, venv: Path, passive: bool = False) -> dict[str, str]:
    env = {k: v for k, v in ENV_BEFORE.items() if k not in DROP}
    if passive:  # idle OpenMP threads sleep instead of spinning; the thread count stays the default
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    env.update(RNNBOOK_INSTALL=str(wheel), RNNBOOK_CACHE=str(cache), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    return env


def execute(chapter: Path, out: Path, kernel: str, env: dict[str, str], workdir: Path) -> tuple[float, str | None]:
    """Execute one chapter, save it (also when a cell fails: the comparison reads how far it got)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(chapter, as_version=4)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    client = NotebookClient(nb, kernel_name=kernel, timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    start, error = time.perf_counter(), None
    try:
        client.execute(env=env)
    except CellExecutionError as err:
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()[-1][:300]  # without ANSI colours
    except Exception as err:  # a timeout or a dead kernel: record it, go on with the next chapter
        error = f"{type(err).__name__}: {str(err)[:300]}"
    seconds = time.perf_counter() - start
    nb.metadata.setdefault("rnnbook", {})["execution_seconds"] = round(seconds, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return seconds, error


def versions(vpy: Path) -> str:
    """Python, torch threads, and every requirements.txt package whose version differs in the new venv."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M))
    norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
    pins = {norm(k): v for k, v in pins.items()}
    freeze = subprocess.run([str(vpy), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    have = {norm(k): v for k, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", freeze, re.M)}
    code = "import sys, torch; print(sys.version.split()[0], torch.get_num_threads())"
    probe = subprocess.run([str(vpy), "-c", code],
                           capture_output=True, text=True, env={k: v for k, v in ENV_BEFORE.items() if k not in DROP})
    py, threads = (probe.stdout.split() + ["?", "?"])[:2]
    lines = [f"Colab-like environment: Python {py}, torch threads {threads} (pinned run: Python "
             f"{sys.version.split()[0]}, 1 thread per test process)"]
    for name in sorted(set(pins) & set(have)):
        if pins[name] != have[name]:
            lines.append(f"  {name}: {have[name]} (requirements.txt: {pins[name]})")
    extra = sorted(k for k in ("scipy",) if k in have)
    lines += [f"  {name}: {have[name]} (not pinned; a dependency of a dependency)" for name in extra]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter stems (default: every book/*.ipynb)")
    parser.add_argument("--python", default=None, help="the Python of the fresh venv (default: Python 3.12)")
    parser.add_argument("--pinned", default=str(ROOT / "_build" / "executed"), help="the pinned run's notebooks")
    parser.add_argument("--wheels", default=str(Path.home() / ".cache" / "rnnbook-colab-check"),
                        help="where the venv's wheels are kept between runs (default: ~/.cache/rnnbook-colab-check)")
    parser.add_argument("--reuse-venv", action="store_true",
                        help="keep an earlier run's venv when it has ipykernel and torch (not fresh: local reruns)")
    parser.add_argument("--passive-threads", action="store_true",
                        help="OMP_WAIT_POLICY=PASSIVE in the kernels: on a machine busy with other work, idle "
                             "OpenMP threads sleep instead of spinning (same thread count, same numbers)")
    args = parser.parse_args()

    chapters = sorted((ROOT / "book").glob("*.ipynb"))
    if args.chapters:
        chapters = [c for c in chapters if c.stem in args.chapters or c.stem.split("_")[0] in args.chapters]
        if not chapters:
            raise SystemExit(f"colab-check: no chapter matches {args.chapters}")
    python = args.python or default_python()
    tag = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                         text=True, check=True).stdout.strip()
    venv, cache, executed = BUILD / f"venv-{tag}", BUILD / "cache", BUILD / f"executed-{tag}"

    timer = Timer()
    with timer("wheel"):
        wheel = build_wheel(BUILD / "wheel")
    with timer(f"venv (Python {tag}) with ipykernel and {pinned_torch()}"):
        vpy = make_venv(python, venv, ["ipykernel", pinned_torch()], Path(args.wheels) / f"py{tag}",
                        reuse=args.reuse_venv)
    with timer("data cache from the mirror"):
        mirror = Path(ENV_BEFORE.get("RNNBOOK_DATA") or ROOT.parent / "shared" / "data")
        print(f"colab-check: {fill_cache(mirror, cache)} files from {mirror} in {cache}")
    kernel, env = write_kernelspec(vpy, BUILD / "jupyter"), kernel_env(wheel, cache, venv, args.passive_threads)
    shutil.rmtree(executed, ignore_errors=True)
    for chapter in chapters:
        subprocess.run([str(vpy), "-m", "pip", "uninstall", "-y", "-q", "rnnbook"], capture_output=True)
        with timer(f"execute {chapter.stem}"):
            seconds, error = execute(chapter, executed / chapter.name, kernel, env, BUILD / "work" / chapter.stem)
        if error:
            print(f"colab-check: {chapter.stem} FAILED: {error}", flush=True)

    print("\n" + versions(vpy) + "\n")
    comparisons = compare_dirs(Path(args.pinned), executed, [c.stem for c in chapters])
    report = "\n\n".join(format_table(c) for c in comparisons)
    bad = [c.name for c in comparisons if not c.ok]
    summary = (f"colab-check (Python {tag}): claims compared with tolerance max({RTOL:.0%} relative, {ATOL} absolute)"
               f" + one printed unit, timings excepted: {len(comparisons) - len(bad)} of {len(comparisons)} "
               f"chapters agree" + (f"; differ: {', '.join(bad)}" if bad else ""))
    steps = "\n".join(f"  {name}: {wall:.0f} s wall, {cpu:.0f} s CPU" for name, wall, cpu in timer.steps)
    total, total_cpu = (sum(step[i] for step in timer.steps) for i in (1, 2))
    text = f"{report}\n\n{summary}\nsteps:\n{steps}\n  total: {total:.0f} s wall, {total_cpu:.0f} s CPU"
    print(text)
    (BUILD / f"report-{tag}.txt").write_text(text + "\n")
    print(f"colab-check: {len(comparisons) - len(bad)} passed, {len(bad)} failed")  # one chapter, one test
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
