"""Execute the chapters at the full scale (``RNNBOOK_SCALE=full``) and print, per chapter: time, peak memory,
whether every claim holds, and the numbers behind the claims.

    python tools/full_scale.py                          # every chapter, on the GPU when there is one (make full)
    python tools/full_scale.py 04 10b                   # a subset
    python tools/full_scale.py --cell-timeout 120 03    # stop a chapter at its first cell that takes over 120 s
    python tools/full_scale.py --out _build/full        # where the executed chapters go (default)

Peak memory is the kernel's peak resident set (``ru_maxrss``, asked from the kernel after the last cell; sampled
every 0.2 s from /proc when the kernel died) and, on a GPU, torch's peak allocated CUDA memory. The claims and
their numbers are the outputs ``rnnbook.claims.report_claims`` glued into the executed notebook (``claims-04``,
``claims-04-<name>``), read back from it. A chapter stopped by the cell limit reports the cell it stopped in.
The exit status is 1 when a chapter raised an error other than the cell limit or a claim did not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from kernel_poll import poll_kernel_replies_in_slices
from rnnbook.claims import claims_from_markdown

poll_kernel_replies_in_slices()  # jupyter/nbclient#312

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
# Asked from the kernel after the chapter: peak RSS (ru_maxrss is in KiB on Linux) and peak CUDA memory.
MEMORY_PROBE = """
import json, resource, sys
_gpu = None
if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
    _gpu = sys.modules["torch"].cuda.max_memory_allocated() / 2**30
print("RNNBOOK_MEMORY", json.dumps({"rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                                   "gpu_gb": _gpu}))
"""


@dataclass
class Result:
    chapter: str
    status: str = "ok"              # ok | cell limit | error | dead kernel
    where: str = ""                 # the cell it stopped in (index and first line)
    seconds: float = 0.0
    rss_gb: float | None = None     # the kernel's peak resident memory
    gpu_gb: float | None = None     # torch's peak CUDA memory (None on CPU)
    claims: dict[str, bool] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    error: str = ""

    @property
    def claims_hold(self) -> str:
        if not self.claims:
            return "-"
        return "yes" if all(self.claims.values()) else f"NO ({sum(not v for v in self.claims.values())})"


def chapter_paths(selected: list[str]) -> list[Path]:
    """Chapter notebooks by number (``04``, ``9b``, ``09b``); every chapter when none is given."""
    every = sorted(BOOK.glob("[0-9]*.ipynb"))
    if not selected:
        return every
    paths = []
    for name in selected:
        hits = [p for p in every if p.stem.split("_")[0] == name.zfill(2) or p.stem.split("_")[0] == name.zfill(3)]
        if not hits:
            raise SystemExit(f"no chapter {name!r} in book/: give numbers such as 04 or 09b, from "
                             + ", ".join(p.stem.split("_")[0] for p in every))
        paths += hits
    return paths


def glued_claims(nb: nbformat.NotebookNode, chapter: str) -> tuple[dict[str, bool], dict[str, float]]:
    """The claims table and numbers report_claims glued into an executed chapter (myst-nb's scrapbook outputs)."""
    claims, numbers = {}, {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            name, prefix = scrapbook.get("name", ""), scrapbook.get("mime_prefix", "")
            data = {mime[len(prefix):]: value for mime, value in out.get("data", {}).items()}
            if name == f"claims-{chapter}":
                claims = claims_from_markdown(data["text/markdown"])
            elif name.startswith(f"claims-{chapter}-"):
                numbers[name[len(f"claims-{chapter}-"):]] = float(data["text/plain"])
    return claims, numbers


def _sample_rss(pid: int, peak: list[float], stop: threading.Event) -> None:
    """The kernel's peak resident memory so far (Linux: VmHWM in /proc), read every 0.2 s: what is left to know
    when the kernel dies before it can be asked."""
    status = Path(f"/proc/{pid}/status")
    while not stop.wait(0.2):
        try:
            hwm = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        except (OSError, StopIteration):  # not Linux, or the kernel is gone
            return
        peak[0] = max(peak[0], int(hwm.split()[1]) / 2**20)  # kB -> GB


def run_chapter(path: Path, cell_timeout: int | None, out_dir: Path) -> Result:
    chapter = path.stem.split("_")[0]
    result = Result(chapter)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(BOOK)}})
    peak, stop = [0.0], threading.Event()
    start = time.perf_counter()
    with client.setup_kernel():
        sampler = threading.Thread(target=_sample_rss, args=(client.km.provisioner.process.pid, peak, stop),
                                   daemon=True)
        sampler.start()
        index = -1
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except CellTimeoutError:
            result.status = "cell limit"
        except DeadKernelError as err:
            result.status, result.error = "dead kernel", str(err)[:300]
        except CellExecutionError as err:  # the limit interrupts the kernel: the cell ends in KeyboardInterrupt
            limit = err.ename == "KeyboardInterrupt" and cell_timeout is not None
            result.status = "cell limit" if limit else "error"
            result.error = "" if limit else (err.ename + ": " + err.evalue)[:300]
        result.seconds = time.perf_counter() - start
        if result.status != "ok":
            result.where = f"cell {index}: " + nb.cells[index].source.strip().splitlines()[0][:60]
        if result.status != "dead kernel":
            probe = nbformat.v4.new_code_cell(MEMORY_PROBE)
            nb.cells.append(probe)  # run as the last cell, removed again before the chapter is written
            try:
                client.execute_cell(probe, len(nb.cells) - 1)
                text = "".join(o.get("text", "") for o in probe.outputs)
                memory = json.loads(text.split("RNNBOOK_MEMORY", 1)[1])
                result.rss_gb, result.gpu_gb = memory["rss_gb"], memory["gpu_gb"]
            except Exception as err:  # a kernel stuck after the limit: fall back to the sampled peak
                result.error = result.error or f"memory probe failed: {err!r}"[:200]
            nb.cells.pop()
        stop.set()
    if result.rss_gb is None:
        result.rss_gb = peak[0] or None
    result.claims, result.numbers = glued_claims(nb, chapter)
    if result.status in ("ok", "error") and result.claims and not all(result.claims.values()):
        result.status = "claims fail"  # report_claims raised, or a chapter went on past a claim that failed
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    return result


def table(results: list[Result]) -> str:
    """Markdown: one row per chapter, then every number behind its claims."""
    fmt = lambda v, spec: "-" if v is None else format(v, spec)
    lines = ["| chapter | status | stopped in | time (s) | peak RSS (GB) | peak GPU (GB) | claims hold |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.chapter} | {r.status} | {r.where or '-'} | {r.seconds:.0f} | {fmt(r.rss_gb, '.2f')} "
                     f"| {fmt(r.gpu_gb, '.2f')} | {r.claims_hold} |")
    for r in results:
        if r.claims or r.numbers or r.error:
            lines.append(f"\nchapter {r.chapter}:")
            lines += [f"  - [{'yes' if v else 'NO'}] {text}" for text, v in r.claims.items()]
            lines += [f"  - {name} = {value:.4g}" for name, value in r.numbers.items()]
            if r.error:
                lines.append(f"  - error: {r.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers (04, 09b); default: every chapter")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds a cell may take before the chapter stops there (default: no limit)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "full", help="folder for executed chapters")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.cell_timeout is not None and args.cell_timeout < 1:
        parser.error(f"--cell-timeout must be a positive number of seconds, got {args.cell_timeout}")

    os.environ["RNNBOOK_SCALE"] = "full"  # the kernels inherit it
    results = []
    for path in chapter_paths(args.chapters):
        print(f"{path.name}: executing at RNNBOOK_SCALE=full ...", flush=True)
        result = run_chapter(path, args.cell_timeout, args.out)
        print(f"{path.name}: {result.status} {result.where} in {result.seconds:.0f} s, peak RSS "
              f"{result.rss_gb or 0:.2f} GB, claims hold: {result.claims_hold}", flush=True)
        results.append(result)
        if args.json:
            args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    print("\n" + table(results))
    bad = [r for r in results if r.status in ("error", "dead kernel", "claims fail")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
