"""Notebook hygiene and book configuration: what every chapter must look like before it is run."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.ipynb") if re.fullmatch(r"\d\d[a-z]?_\w+\.ipynb", p.name))
SETUP_CELL = (ROOT / "tests" / "setup_cell.py").read_text().rstrip("\n")
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
    assert first_code.source == SETUP_CELL, "the setup cell differs from tests/setup_cell.py"
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
    allowed = {"_config.yml", "README.md", "tests/setup_cell.py"}
    offenders = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if (path.is_file() and not rel.startswith((".git/", ".venv/", "_build/", "book/")) and rel not in allowed
                and path.suffix in {".py", ".yml", ".yaml", ".md", ".toml", ".txt", ".cfg"}):
            if url in path.read_text(errors="ignore"):
                offenders.append(rel)
    assert offenders == [], f"the repository URL is repeated in {offenders}; keep it in _config.yml"
