"""The book build must find what `make test` executed: tools/book_cache.py puts it where Jupyter Book looks."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("book_cache", ROOT / "tools" / "book_cache.py")
book_cache = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_cache)


def _executed_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What nbclient hands back: outputs, counts, and timing metadata added to every code cell."""
    run = copy.deepcopy(nb)
    for i, cell in enumerate(c for c in run.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"cell {i}\n")]
        cell.metadata["execution"] = {"iopub.execute_input": "2026-11-26T00:00:00Z"}
    run.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    run.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {}}, "version_major": 2}}
    return run


def test_the_build_matches_what_the_tests_executed(tmp_path):
    chapter = ROOT / "book" / "01_recurrence.ipynb"
    source = nbformat.read(chapter, as_version=4)
    executed, book = tmp_path / "executed", tmp_path / "book"
    executed.mkdir(), book.mkdir()
    nbformat.write(source, book / chapter.name)
    nbformat.write(_executed_copy(source), executed / chapter.name)

    assert book_cache.main(executed, tmp_path / "cache", book) == 0
    cache = get_cache(str(tmp_path / "cache"))
    record = cache.match_cache_notebook(nbformat.read(book / chapter.name, as_version=4))  # raises on a miss
    _, merged = cache.merge_match_into_notebook(nbformat.read(book / chapter.name, as_version=4))
    texts = [o.text for c in merged.cells if c.cell_type == "code" for o in c.outputs]
    assert texts[0] == "cell 0\n" and len(texts) == sum(c.cell_type == "code" for c in source.cells)
    assert record.pk >= 1
    assert merged.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"] == {"m1": {}}, \
        "the widget state must reach the book, or its widgets render as nothing"


def test_a_changed_chapter_is_not_cached(tmp_path, capsys):
    chapter = ROOT / "book" / "01_recurrence.ipynb"
    source = nbformat.read(chapter, as_version=4)
    executed, book = tmp_path / "executed", tmp_path / "book"
    executed.mkdir(), book.mkdir()
    nbformat.write(_executed_copy(source), executed / chapter.name)
    changed = copy.deepcopy(source)
    next(c for c in changed.cells if c.cell_type == "code").source += "\nx = 1"
    nbformat.write(changed, book / chapter.name)

    book_cache.main(executed, tmp_path / "cache", book)
    assert "changed since the test run" in capsys.readouterr().out
    with pytest.raises(KeyError):
        get_cache(str(tmp_path / "cache")).match_cache_notebook(changed)


def test_progress_bars_are_left_out_of_the_book():
    bar = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m1", "version_major": 2, "version_minor": 0},
        "text/plain": "shakespeare:   0%|          | 0/500 [00:00<?, ?it/s]"})
    slider = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "m2", "version_major": 2, "version_minor": 0},
        "text/plain": "interactive(children=(FloatSlider(value=1.0, description='temperature'),))"})
    text_bar = nbformat.v4.new_output("stream", name="stderr", text="train: 100%|##########| 3.0k/3.0k [00:05<00:00]\n")
    result = nbformat.v4.new_output("stream", name="stdout", text="loss 1.23 after 500 steps\n")
    assert [book_cache.is_progress_bar(o) for o in (bar, slider, text_bar, result)] == [True, False, True, False]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("train()")])
    run = copy.deepcopy(nb)
    run.cells[0].outputs = [bar, slider, text_bar, result]
    kept = book_cache.with_outputs(nb, run).cells[0].outputs
    assert kept == [slider, result]
