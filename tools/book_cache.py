"""Put the chapters that `make test` executed into the book's execution cache.

nbmake runs every chapter during the tests and tests/conftest.py keeps each executed notebook in
_build/executed/. Jupyter Book (execute_notebooks: cache) then finds them by the hash of their code,
so `make book` after `make test` executes nothing twice. A chapter whose code changed since the test
run no longer matches its hash and is simply executed again by the build.

    python tools/book_cache.py _build/executed _build/.jupyter_cache
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn


def main(executed: Path, cache_path: Path) -> int:
    notebooks = sorted(executed.glob("*.ipynb")) if executed.is_dir() else []
    if not notebooks:
        print(f"book_cache: nothing in {executed}; the build will execute every chapter")
        return 0
    cache = get_cache(str(cache_path))
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        seconds = nb.metadata.get("rnnbook", {}).get("execution_seconds")
        record = cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}), check_validity=False, overwrite=True
        )
        print(f"book_cache: cached {path.name} (record {record.pk})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
