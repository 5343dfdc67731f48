"""Notebook hygiene and book configuration: what every chapter must look like before it is run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.ipynb") if re.fullmatch(r"\d\d[a-z]?_\w+\.ipynb", p.name))
SETUP_CELL = (ROOT / "tests" / "book" / "setup_cell.py").read_text().rstrip("\n")
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        for value in node.values():
            found += toc_files(value)
    elif isinstance(node, list):
        for value in node:
            found += toc_files(value)
    return found


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks in book/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
    assert nb.metadata.kernelspec.name == "python3"
    assert "widgets" not in nb.metadata, "saved widget state: clear outputs before committing"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_is_the_shared_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source == SETUP_CELL, "the setup cell differs from tests/book/setup_cell.py"
    assert "hide-cell" in first_code.metadata.get("tags", []), "the setup cell must be hidden in the HTML"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "a chapter opens with its title"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_asserts_and_has_exercises(path):
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert code.count("assert") >= 3, "every claim of a chapter ends in an assert"
    assert markdown.count("```{exercise}") >= 2, "two or more exercises"
    solutions = [c for c in nb.cells if c.cell_type == "code" and "hide-cell" in c.metadata.get("tags", [])
                 and "assert" in c.source]
    assert len(solutions) >= 2, "each exercise has a hidden solution cell that asserts its check"
    assert "{cite}" in markdown, "a chapter cites its papers"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_bibliography_inside_a_chapter(path):
    """One bibliography for the book (book/references.md): a second one per page gives duplicate-citation warnings,
    which fail the -W build."""
    nb = nbformat.read(path, as_version=4)
    where = [i for i, cell in enumerate(nb.cells) if "{bibliography}" in cell.source]
    assert not where, f"{path.name}: cells {where} hold a bibliography directive; cite with {{cite}} and let book/references.md list them"


def test_every_chapter_is_in_the_toc_and_every_toc_file_exists():
    files = toc_files(TOC)
    for path in CHAPTERS:
        assert f"book/{path.stem}" in files, f"{path.name} is not in _toc.yml"
    for entry in files + [TOC["root"]]:
        assert any((ROOT / f"{entry}{ext}").is_file() for ext in (".ipynb", ".md")), f"{entry} in _toc.yml is missing"


def test_setup_cell_installs_from_the_configured_repository():
    url = CONFIG["repository"]["url"]
    assert f"git+{url}" in SETUP_CELL, "the setup cell must install rnnbook from _config.yml's repository URL"
    assert "RNNBOOK_INSTALL" in SETUP_CELL


def colab_url(chapter: Path) -> str:
    """The link Jupyter Book's launch button builds: COLAB/github/ORG/REPO/blob/BRANCH/PATH_TO_BOOK/FILE."""
    repo = CONFIG["repository"]
    org_repo = re.sub(r"^https://github\.com/", "", repo["url"]).rstrip("/")
    prefix = f"{repo['path_to_book']}/" if repo.get("path_to_book") else ""
    rel = chapter.relative_to(ROOT).as_posix()
    return f"{CONFIG['launch_buttons']['colab_url']}/github/{org_repo}/blob/{repo['branch']}/{prefix}{rel}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_link_points_at_an_existing_notebook(path):
    url = colab_url(path)
    match = re.match(r"https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/main/(.+\.ipynb)$", url)
    assert match, url
    assert (ROOT / match.group(1)).is_file(), f"{url} points at a notebook that does not exist"


def test_readme_lists_every_chapter_with_a_colab_badge():
    readme = (ROOT / "README.md").read_text()
    for path in CHAPTERS:
        assert colab_url(path) in readme, f"README has no Colab link for {path.name}"


def test_repository_url_appears_only_in_config_readme_and_setup_cell():
    url = CONFIG["repository"]["url"]
    allowed = {"_config.yml", "README.md", "tests/book/setup_cell.py"}
    offenders = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if (path.is_file() and not rel.startswith((".git/", ".venv/", "_build/", "book/")) and rel not in allowed
                and path.suffix in {".py", ".yml", ".yaml", ".md", ".toml", ".txt", ".cfg"}):
            if url in path.read_text(errors="ignore"):
                offenders.append(rel)
    assert offenders == [], f"the repository URL is repeated in {offenders}; keep it in _config.yml"


# --- what a reader sees: code that fits the column, solutions hidden everywhere, no word of the development ---

# At a 1280 px window the article column holds 88 characters of code (book/_ext/static/rnnbook/book.css);
# tests/book/browser_check.py checks in the built book that no code block scrolls sideways.
MAX_CODE_LINE = 88
SOLUTION_TITLE = "# @title Solution"




@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit_the_column(path):
    nb = nbformat.read(path, as_version=4)
    too_long = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source == SETUP_CELL:  # the setup cell is hidden and shared
            continue
        too_long += [f"cell {i} line {n}: {len(line)} characters" for n, line in enumerate(cell.source.split("\n"), 1)
                     if len(line) > MAX_CODE_LINE]
    assert not too_long, (f"{path.name}: code lines longer than {MAX_CODE_LINE} (run tools/format_chapters.py): "
                          + "; ".join(too_long))


def _solutions(nb) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source != SETUP_CELL
            and "hide-cell" in c.metadata.get("tags", []) and "assert" in c.source]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_solutions_are_hidden_in_html_jupyterlab_and_colab(path):
    """HTML: the hide-cell tag; JupyterLab/Notebook: collapsed source; Colab: a form showing only its title."""
    nb = nbformat.read(path, as_version=4)
    solutions = _solutions(nb)
    assert solutions, f"{path.name}: no solution cells found"
    for i, cell in solutions:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"cell {i}: source not hidden in Jupyter"
        assert cell.metadata.get("cellView") == "form", f"cell {i}: not a form in Colab (cellView)"
        assert cell.source.startswith(SOLUTION_TITLE), f"cell {i}: a Colab form starts with '{SOLUTION_TITLE}'"


# "ci" in quotes is the name of the default scale (RNNBOOK_SCALE=ci), which readers use; CI (capitals) is the machinery
DEVELOPMENT_WORDS = re.compile(r"\b(issues?\b|(?-i:CI)\b|the ci run|after looking at|TODO|FIXME|XXX|nbmake|pytest"
                               r"|smoke[- ]test)", re.IGNORECASE)


def _reader_text(nb) -> str:
    """Markdown and the comments of the code: what a student reads."""
    parts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    parts += [line[line.index("#"):] for c in nb.cells if c.cell_type == "code" and c.source != SETUP_CELL
              for line in c.source.split("\n") if "#" in line]
    return "\n".join(parts)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_book_does_not_speak_of_its_development(path):
    hits = [m.group(0) for m in DEVELOPMENT_WORDS.finditer(_reader_text(nbformat.read(path, as_version=4)))]
    assert not hits, f"{path.name} speaks of the development process: {hits}"


def test_development_words_are_caught():
    assert DEVELOPMENT_WORDS.search("the bars were set after looking at the ci run")
    assert DEVELOPMENT_WORDS.search("above the issue's starting point")
    assert not DEVELOPMENT_WORDS.search('the default "ci" scale trains in a minute; a circle is an object')


# Conceptual questions: a chapter's section after its exercises, 2-4 of them, each answer hidden in a <details> element that
# Jupyter, Colab and the book all render closed (the blank lines make its inside Markdown, with math).
QUESTION = re.compile(r"^\*\*Question (\d)\.\*\* \S.*?\n\n<details>\n<summary>Answer</summary>\n\n\S.*\S\n\n</details>$",
                      re.DOTALL)


def _is_questions_head(cell) -> bool:
    return cell.cell_type == "markdown" and cell.source.split("\n")[0].strip() == "## Questions"


def _questions(nb) -> list[str]:
    heads = [i for i, c in enumerate(nb.cells) if _is_questions_head(c)]
    assert len(heads) == 1, "a chapter has one '## Questions' section"
    questions = []
    for cell in nb.cells[heads[0] + 1:]:  # up to the next section (the summary, the claims)
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            break
        if cell.cell_type == "markdown":
            questions.append(cell.source)
    return questions


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_asks_questions_with_hidden_answers(path):
    nb = nbformat.read(path, as_version=4)
    questions = _questions(nb)
    assert 2 <= len(questions) <= 4, f"{path.name}: {len(questions)} questions after '## Questions' (2-4 wanted)"
    for n, source in enumerate(questions, 1):
        match = QUESTION.match(source.strip())
        assert match, f"{path.name}, question {n}: not '**Question {n}.** ...' followed by a <details> answer"
        assert int(match.group(1)) == n, f"{path.name}: question {n} is numbered {match.group(1)}"
    head = next(i for i, c in enumerate(nb.cells) if _is_questions_head(c))
    assert not any("```{exercise}" in c.source for c in nb.cells[head:]), "the questions come after the exercises"


def test_question_format_is_checked():
    good = "**Question 1.** Why?\n\n<details>\n<summary>Answer</summary>\n\nBecause $x$.\n\n</details>"
    assert QUESTION.match(good)
    assert not QUESTION.match(good.replace("\n\nBecause", "\nBecause"))  # no blank line: raw HTML, no Markdown
    assert not QUESTION.match("**Question 1.** Why? Because.")  # the answer is not hidden


class _Anonymise(ast.NodeTransformer):
    """Rename every variable and argument by its order of appearance: a retyped function with other names is the
    same function."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=node.ctx), node)

    def visit_arg(self, node):
        return ast.copy_location(ast.arg(arg=self._name(node.arg)), node)


def _function_bodies(source: str) -> dict[str, str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics
        return {}
    bodies = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            name = node.name
            node.name, node.decorator_list, node.returns = "f", [], None
            node.body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            bodies[name] = ast.dump(_Anonymise().visit(node))
    return bodies


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_exercise_retypes_a_cell_shown_earlier(path):
    """An exercise asks for thought the chapter did not write out: its solution is not a function shown before."""
    nb = nbformat.read(path, as_version=4)
    shown: dict[str, tuple[int, str]] = {}
    solution_ids = {i for i, _ in _solutions(nb)}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source == SETUP_CELL:
            continue
        bodies = _function_bodies(cell.source)
        if i in solution_ids:
            for name, body in bodies.items():
                assert body not in shown, (f"{path.name}: the solution {name} in cell {i} retypes "
                                           f"{shown[body][1]} from cell {shown[body][0]}")
        else:
            for name, body in bodies.items():
                shown.setdefault(body, (i, name))


def test_a_retyped_function_is_caught():
    shown = _function_bodies("def step(h, x, W):\n    '''doc'''\n    return np.tanh(W @ h + x)\n")
    retyped = _function_bodies("def my_step(a, b, M):\n    return np.tanh(M @ a + b)\n")
    other = _function_bodies("def my_step(a, b, M):\n    return np.tanh(M @ a - b)\n")
    assert list(shown.values()) == list(retyped.values())
    assert list(shown.values()) != list(other.values())


# --- a chapter uses the package, it does not shadow it or reach into its private parts ---------------------------

def _package_names() -> set[str]:
    """Every public name an ``rnnbook`` module binds at its top level (def, class, assignment)."""
    names: set[str] = set()
    for path in (ROOT / "src" / "rnnbook").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return {n for n in names if not n.startswith("_")}


PACKAGE_NAMES = _package_names()


def _chapter_trees(nb) -> list[tuple[int, ast.Module]]:
    """The parsed code cells (IPython's ``%magic`` and ``!shell`` lines blanked out)."""
    trees = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            source = re.sub(r"(?m)^\s*[%!].*$", "", cell.source)
            trees.append((i, ast.parse(source)))
    return trees


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def package_misuse(nb) -> list[str]:
    """What a chapter must not do with ``rnnbook``: import or call a private (``_x``) name of it, through a name
    bound to the package (imported from it, or assigned from an expression that uses such a name), or define at
    its top level a function or class with the name of a public package name (shadowing it)."""
    trees = _chapter_trees(nb)
    bound: set[str] = set()
    for _, tree in trees:  # names bound to the package, in the order the cells run
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bound |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("rnnbook")}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnbook"):
                bound |= {a.asname or a.name for a in node.names}
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.For, ast.withitem, ast.NamedExpr)):
                value = getattr(node, "value", None) or getattr(node, "iter", None) or getattr(node, "context_expr", None)
                if value is not None and {n.id for n in ast.walk(value) if isinstance(n, ast.Name)} & bound:
                    targets = (node.targets if isinstance(node, ast.Assign) else
                               [getattr(node, "target", None) or getattr(node, "optional_vars", None)])
                    bound |= {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}
    found = []
    for i, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnbook"):
                found += [f"cell {i}: imports the private {node.module}.{a.name}" for a in node.names if _private(a.name)]
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                root = node.value
                while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                    root = root.func if isinstance(root, ast.Call) else root.value
                if isinstance(root, ast.Name) and root.id in bound:
                    found.append(f"cell {i}: uses the private {ast.unparse(node)}")
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in PACKAGE_NAMES:
                found.append(f"cell {i}: defines {node.name}, a name of the package (call the package's, or rename)")
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_chapter_neither_shadows_the_package_nor_calls_its_private_names(path):
    found = package_misuse(nbformat.read(path, as_version=4))
    assert not found, f"{path.name}: " + "; ".join(found)


def test_package_misuse_is_caught():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom rnnbook.minchar import MinCharRNN\nprobe = MinCharRNN('ab')"),
        nbformat.v4.new_code_cell("inputs = probe._chunk()\nother = object()._fine\nprobe.__class__"),
        nbformat.v4.new_code_cell("def make_cell(x):\n    return x\n\n\ndef my_cell(x):\n    return x"),
        nbformat.v4.new_code_cell("from rnnbook.minchar import _helper\nimport rnnbook\nrnnbook.viz._style"),
    ])
    found = package_misuse(nb)
    assert found == ["cell 1: uses the private probe._chunk", "cell 2: defines make_cell, a name of the package "
                     "(call the package's, or rename)", "cell 3: imports the private rnnbook.minchar._helper",
                     "cell 3: uses the private rnnbook.viz._style"], found
