"""One home for each name: no public top-level name of ``rnnbook`` is defined in two of its modules.

A name *defined* in a module is a top-level ``def``, ``class`` or assignment there (an import of it elsewhere is
fine: that is how one home is shared). Two modules defining ``Seq2Seq`` or ``count_parameters`` make a reader ask
which one a chapter means; this test fails until one is renamed or becomes an import of the other.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import rnnbook

# Names a faithful copy of a published program keeps on purpose: ``rnnbook.minchar`` is Karpathy's min-char-rnn
# line for line, so its ``sample`` and its program's ``main`` keep the names of the original; the character-model
# command line (``rnnbook.charlm``) has its own ``sample`` and, as every ``__main__``, a ``main``.
ALLOWED: dict[str, set[str]] = {
    "sample": {"rnnbook.minchar", "rnnbook.charlm.run"},
    "main": {"rnnbook.minchar", "rnnbook.charlm.__main__"},
}


def module_files() -> dict[str, Path]:
    """Every module of the package: dotted name -> source file."""
    root = Path(rnnbook.__file__).parent
    out = {"rnnbook": root / "__init__.py"}
    for info in pkgutil.walk_packages([str(root)], prefix="rnnbook."):
        path = root.joinpath(*info.name.split(".")[1:])
        out[info.name] = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
    return out


def defined_names(path: Path) -> set[str]:
    """The public names a module defines at its top level: def, class, assignment (not import)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
    return {n for n in names if not n.startswith("_")}


def duplicates(files: dict[str, Path]) -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for module, path in sorted(files.items()):
        for name in defined_names(path):
            where[name].append(module)
    return {name: mods for name, mods in where.items()
            if len(mods) > 1 and not set(mods) <= ALLOWED.get(name, set())}


def test_the_walk_sees_every_module():
    files = module_files()
    assert {"rnnbook.cells", "rnnbook.models.graphs", "rnnbook.data.sequences", "rnnbook.viz.table"} <= set(files)
    assert all(p.is_file() for p in files.values())
    assert {"CELLS", "make_cell", "StackedRNN"} <= defined_names(files["rnnbook.cells"])


def test_the_check_catches_a_name_defined_twice(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    pass\n\nX = 1\n_private = 2\n")
    (tmp_path / "b.py").write_text("from a import f\n\nclass X:\n    pass\n\n_private = 3\n")
    assert duplicates({"a": tmp_path / "a.py", "b": tmp_path / "b.py"}) == {"X": ["a", "b"]}


def test_no_public_name_is_defined_in_two_modules():
    found = duplicates(module_files())
    assert not found, "defined in more than one module (rename one, or import it from its home): " + "; ".join(
        f"{name}: {', '.join(mods)}" for name, mods in sorted(found.items()))


SRC = Path(__file__).resolve().parents[2] / "src" / "rnnbook"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_models_hold_no_training_code():
    """Models are nn.Modules: no module of rnnbook.models imports the training loop, even inside a function."""
    bad = {p.name: sorted(n for n in _imports(p) if n.startswith(("rnnbook.train", "rnnbook.tbptt")))
           for p in (SRC / "models").glob("*.py")}
    assert not {k: v for k, v in bad.items() if v}
    code = ("import sys, importlib, pkgutil, rnnbook.models as M\n"
            "for m in pkgutil.iter_modules(M.__path__): importlib.import_module('rnnbook.models.' + m.name)\n"
            "print(sorted(k for k in sys.modules if k.startswith(('rnnbook.train', 'rnnbook.tbptt'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_training_loop_outside_train_and_tbptt():
    """Every call of an optimizer's step() in the torch code of the package is in rnnbook.train (update)."""
    steps = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if ".step()" in p.read_text()
             and "opt" in p.read_text()]
    assert steps == ["train/__init__.py"], steps
