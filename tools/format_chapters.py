"""Format the chapters' code to the book's line length with ruff, and hide their solutions in every front-end.

    python tools/format_chapters.py book/06_gradient_flow.ipynb ...     (default: every chapter in book/)
    python tools/format_chapters.py --check book/*.ipynb                (only report, change nothing)

1. ``ruff format --line-length 88`` on every code cell except the shared setup cell (it must equal
   tests/book/setup_cell.py). Ruff does not split comments or strings; this script then wraps long comments (a
   trailing comment moves above its line) and splits long string literals into adjacent literals, keeping a change
   only when the cell's syntax tree is unchanged. The lines still too long are listed for editing by hand.
2. Every solution cell (a code cell tagged ``hide-cell`` that checks an exercise) is hidden in all three front-ends:
   the HTML book (the tag), JupyterLab/Notebook (``"jupyter": {"source_hidden": true}``) and Colab (a form: the
   first line ``# @title Solution`` and ``"cellView": "form"``).

tests/book/test_notebooks.py holds both (line length and hidden solutions). Needs ruff (``pip install ruff``); ruff is
not a dependency of the book.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LINE_LENGTH = 88
SETUP_CELL = (ROOT / "tests" / "book" / "setup_cell.py").read_text().rstrip("\n")
TITLE = "# @title Solution"


def is_solution(cell) -> bool:
    """A hidden code cell that checks an exercise (the setup cell is hidden too, but checks nothing)."""
    return (cell.cell_type == "code" and "hide-cell" in cell.metadata.get("tags", [])
            and cell.source != SETUP_CELL and "assert" in cell.source)


def hide_solution(cell) -> None:
    if not cell.source.startswith("# @title"):
        cell.source = f"{TITLE}\n{cell.source}"
    cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    cell.metadata["cellView"] = "form"


def format_cells(nb, ruff: str) -> None:
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source != SETUP_CELL]
    tmp = nbformat.v4.new_notebook(metadata=nb.metadata)
    tmp.cells = [nbformat.v4.new_code_cell(c.source) for c in cells]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "chapter.ipynb"
        nbformat.write(tmp, path)
        subprocess.run([ruff, "format", "--quiet", "--isolated", f"--line-length={LINE_LENGTH}", str(path)],
                       check=True)
        formatted = nbformat.read(path, as_version=4)
    for cell, new in zip(cells, formatted.cells):
        cell.source = wrap_long_lines(new.source.rstrip("\n"))


STRING = re.compile(r"""^(?P<indent>\s*)(?P<key>[A-Za-z_]\w*\s*=\s*)?(?P<prefix>[fr]{0,2})(?P<q>["'])(?P<body>.*)(?P=q)(?P<tail>(?:\.\w+\(\))?(?::\s[^"']*)?[,)]*)$""")


def _pieces(body: str, width: int, fstring: bool) -> list[str]:
    """Split a string literal's body at spaces (outside f-string braces) into pieces of at most ``width``."""
    pieces, start, depth, last_space = [], 0, 0, None
    for i, ch in enumerate(body):
        depth += (ch == "{") - (ch == "}") if fstring else 0
        if ch == " " and depth == 0:
            last_space = i
        if i - start >= width and last_space is not None and last_space > start:
            pieces.append(body[start:last_space + 1])
            start, last_space = last_space + 1, None
    return pieces + [body[start:]]


def _wrap_line(line: str) -> list[str] | None:
    indent = line[: len(line) - len(line.lstrip())]
    stripped = line.strip()
    if stripped.startswith("#"):
        text = stripped.lstrip("#").strip()
        return textwrap.wrap(text, LINE_LENGTH - len(indent) - 2, initial_indent=f"{indent}# ",
                             subsequent_indent=f"{indent}# ", break_on_hyphens=False)
    m = STRING.match(line)
    if m and "\\" not in m["body"][-1:]:
        fstring = "f" in m["prefix"].lower()
        inner = indent + ("    " if m["key"] else "")
        width = LINE_LENGTH - len(inner) - len(m["prefix"]) - 2 - max(1, len(m["tail"]))
        parts = _pieces(m["body"], width, fstring)
        if len(parts) < 2:
            return None
        prefix = lambda part: m["prefix"] if (not fstring or "{" in part) else m["prefix"].replace("f", "").replace("F", "")
        lits = [f"{inner}{prefix(part)}{m['q']}{part}{m['q']}" for part in parts]
        if m["key"]:  # name = "..." -> name = ("..." "...")
            return [f"{indent}{m['key']}("] + lits + [f"{indent}){m['tail']}"]
        lits[-1] += m["tail"]
        return lits
    code, sep, comment = line.partition("  # ")
    if sep and code.strip() and "#" not in code and '"' not in comment and "'" not in comment:
        return _wrap_line(f"{indent}# {comment}") + [code.rstrip()]
    return None


def wrap_long_lines(source: str) -> str:
    """Wrap comments and split string literals longer than LINE_LENGTH, keeping the syntax tree the same."""
    try:
        tree = ast.dump(ast.parse(source))
    except SyntaxError:
        return source
    lines = source.split("\n")
    for n in range(len(lines), 0, -1):
        if len(lines[n - 1]) <= LINE_LENGTH:
            continue
        new = _wrap_line(lines[n - 1])
        if not new:
            continue
        trial = lines[: n - 1] + new + lines[n:]
        try:
            same = ast.dump(ast.parse("\n".join(trial))) == tree
        except SyntaxError:
            same = False
        if same:
            lines = trial
    return "\n".join(lines)


def long_lines(nb) -> list[tuple[int, str]]:
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source == SETUP_CELL:
            continue
        out += [(i, line) for line in cell.source.split("\n") if len(line) > LINE_LENGTH]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="report only")
    args = parser.parse_args()
    chapters = args.chapters or sorted(p for p in (ROOT / "book").glob("*.ipynb")
                                       if re.fullmatch(r"\d\d[a-z]?_\w+\.ipynb", p.name))
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not args.check and not Path(ruff).exists():
        print("format_chapters: ruff is not installed; `pip install ruff` (it is not a dependency of the book)")
        return 2
    too_long = 0
    for path in chapters:
        nb = nbformat.read(path, as_version=4)
        if not args.check:
            format_cells(nb, ruff)
            for cell in nb.cells:
                if is_solution(cell):
                    hide_solution(cell)
            nbformat.write(nb, path)
        for i, line in long_lines(nb):
            too_long += 1
            print(f"{path.name} cell {i}: {len(line)} > {LINE_LENGTH}: {line.strip()[:70]}...")
    print(f"format_chapters: {len(chapters)} chapter(s), {too_long} line(s) longer than {LINE_LENGTH} to edit by hand")
    return 1 if too_long else 0


if __name__ == "__main__":
    sys.exit(main())
