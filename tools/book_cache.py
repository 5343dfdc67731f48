"""Put the chapters that `make test` executed into the book's execution cache.

nbmake runs every chapter during the tests and the root conftest.py keeps each executed notebook in
_build/executed/. Jupyter Book (execute_notebooks: cache) then finds them by the hash of their code
cells (source and cell metadata) and kernelspec, so `make book` after `make test` executes nothing twice.

The executor adds timing metadata to every cell, which would change that hash; so what is cached is the
committed chapter (book/<name>.ipynb) with the executed outputs copied in, cell by cell. A chapter whose
code changed since the test run no longer matches and is executed again by the build (and `.ci/run`
fails when that happens, because CI must not execute a chapter twice).

Progress bars (tqdm) are left out of what is cached: a reader of the book sees the finished results, and a frozen
"100% 500/500 [00:31<00:00]" is noise there; in Jupyter and Colab the bars show as the chapter runs.

    python tools/book_cache.py _build/executed _build/.jupyter_cache [book]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn


PROGRESS_BAR = re.compile(r"\d+%\|.*\| *[\d.]+[kMG]?/[\d.?]+[kMG]? *\[")


def is_progress_bar(output: nbformat.NotebookNode) -> bool:
    """A tqdm bar: a widget whose text form reads like one, or a stderr stream of bar updates."""
    if output.get("output_type") == "stream":
        return output.get("name") == "stderr" and bool(PROGRESS_BAR.search(output.get("text", "")))
    data = output.get("data", {})
    return ("application/vnd.jupyter.widget-view+json" in data
            and bool(PROGRESS_BAR.search(str(data.get("text/plain", "")))))


def with_outputs(source: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The committed notebook with the executed one's outputs, or None when their code cells differ."""
    src_code = [c for c in source.cells if c.cell_type == "code"]
    run_code = [c for c in executed.cells if c.cell_type == "code"]
    if [c.source for c in src_code] != [c.source for c in run_code]:
        return None
    for s, r in zip(src_code, run_code):
        s.outputs = [o for o in r.outputs if not is_progress_bar(o)]
        s.execution_count = r.execution_count
    for key in ("language_info", "widgets"):  # widgets: the widget state the static HTML renders
        if key in executed.metadata:
            source.metadata[key] = executed.metadata[key]
    return source


def main(executed: Path, cache_path: Path, book: Path = Path("book")) -> int:
    notebooks = sorted(executed.glob("*.ipynb")) if executed.is_dir() else []
    if not notebooks:
        print(f"book_cache: nothing in {executed}; the build will execute every chapter")
        return 0
    cache = get_cache(str(cache_path))
    for path in notebooks:
        source_path = book / path.name
        if not source_path.exists():
            print(f"book_cache: {path.name} is not a chapter in {book}/; skipped")
            continue
        run = nbformat.read(path, as_version=4)
        nb = with_outputs(nbformat.read(source_path, as_version=4), run)
        if nb is None:
            print(f"book_cache: {path.name} changed since the test run; the build executes it again")
            continue
        seconds = run.metadata.get("rnnbook", {}).get("execution_seconds")
        record = cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(source_path.resolve()), data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True,
        )
        print(f"book_cache: cached {path.name} (record {record.pk}, executed in {seconds} s by the tests)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sys.exit(main(*(Path(a) for a in sys.argv[1:])))
