"""Conceptual questions: one format for the whole book (a `## Questions` cell, then one cell per question with its
answer folded in a <details> block whose blank lines let Jupyter, Colab and the book parse it as Markdown)."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9]*.ipynb"))
WITH_QUESTIONS = {"01_recurrence", "02_min_char_rnn", "03_tbptt", "04_char_rnn", "05_interpretable_cells"}
SHAPE = re.compile(r"\*\*Question (\d+)\.\*\* \S.*\n\n<details>\n<summary>Answer</summary>\n\n\S.*\n\n</details>\Z",
                   re.S)


def questions(nb):
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    heads = [i for i, s in enumerate(md) if s.strip() == "## Questions"]
    return heads, md


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_questions_have_the_book_format(path):
    heads, md = questions(nbformat.read(path, as_version=4))
    if path.stem in WITH_QUESTIONS:
        assert heads, f"{path.name}: no '## Questions' cell"
    if not heads:
        return
    assert len(heads) == 1, f"{path.name}: one '## Questions' cell, found {len(heads)}"
    cells = []
    for s in md[heads[0] + 1:]:
        if not s.startswith("**Question"):
            break
        cells.append(s)
    assert 2 <= len(cells) <= 4, f"{path.name}: 2-4 questions, found {len(cells)}"
    for n, s in enumerate(cells, 1):
        m = SHAPE.match(s.strip("\n"))
        assert m, f"{path.name}: question {n} is not in the book's shape (see tests/test_questions.py):\n{s[:200]}"
        assert int(m.group(1)) == n, f"{path.name}: question {n} is numbered {m.group(1)}"
    after = md[heads[0] + 1 + len(cells)] if heads[0] + 1 + len(cells) < len(md) else ""
    assert "**Question" not in after, f"{path.name}: a question cell out of order"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_questions_come_after_the_exercises(path):
    nb = nbformat.read(path, as_version=4)
    src = [c.source for c in nb.cells]
    q = [i for i, s in enumerate(src) if s.strip() == "## Questions"]
    ex = [i for i, s in enumerate(src) if "```{exercise}" in s]
    if q and ex:
        assert q[0] > max(ex), f"{path.name}: the questions come after the last exercise"
