"""Mutation testing: do a module's unit tests fail when the module's code is wrong?

    python tools/mutants.py src/rnnbook/tbptt.py tests/rnnbook/test_tbptt.py tests/rnnbook/train/test_init.py [--sample 60 --seed 0]
        [--timeout 60] [--json out.json] [--replay out.json]

Every mutant changes one thing in the module's code: an arithmetic operator (+ -, * /, // /, % *, ** *), a comparison
(< <=, > >=, == !=, is / is not, in / not in), ``and``/``or``, a unary minus or ``not`` dropped, a number changed
(0 -> 1, n -> n + 1, x -> 1.1 x, 0.0 -> 1.0), True/False swapped, None -> 0, ``max``/``min`` (and ``maximum``/``minimum``)
swapped, or one statement replaced by ``pass``. Docstrings, annotations and error messages (whatever sits inside a
``raise`` or an f-string) are left alone: changing them proves nothing about the computation.

All mutants are run, or ``--sample N`` of them drawn with ``--seed``. For each one a forked process runs the test files
(``pytest -x``) against a copy of ``src/`` holding the mutant; the parent has imported the heavy dependencies (numpy,
torch, pytest) once, while the package itself is imported afresh by every child, so a name re-exported elsewhere in
the package is the mutated one too. A mutant is *killed* when a test fails or the run exceeds ``--timeout`` (counted
apart), and *survives* when every test passes. Prints the score and each survivor with its line and code, for a human
to judge (some mutants do not change what the code computes); ``--json`` writes every result, and ``--replay`` runs
again only the survivors of such a file (after new tests were written).
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Mod: ast.Mult, ast.Pow: ast.Mult}
CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
          ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
NAMES = {"maximum": "minimum", "minimum": "maximum", "max": "min", "min": "max"}
KEEP = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Pass)  # never -> pass


def _left_alone(tree: ast.AST) -> set[int]:
    """ids of the nodes no mutant touches: docstrings, annotations, and everything inside a raise or an f-string."""
    skip = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body \
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant):
            skip |= {id(n.body[0]), id(n.body[0].value)}
        roots = []
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = n.args
            roots = [n.returns] + [x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                                   if x is not None]
        elif isinstance(n, ast.AnnAssign):
            roots = [n.annotation]
        elif isinstance(n, ast.Raise):  # the raise statement itself may go; its message may not change
            roots = [c for c in ast.iter_child_nodes(n)]
        elif isinstance(n, ast.JoinedStr):
            roots = [n]
        skip |= {id(m) for r in roots if r is not None for m in ast.walk(r)}
    return skip


def _changes(node: ast.AST) -> list[tuple[str, callable]]:
    """(description, function changing a copy of ``node`` in place) for each mutation of this one node."""
    out = []
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOPS:
        new = BINOPS[type(node.op)]
        eq = "=" if isinstance(node, ast.AugAssign) else ""
        out.append((f"{type(node.op).__name__}{eq} -> {new.__name__}{eq}", lambda n, new=new: setattr(n, "op", new())))
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            if type(op) in CMPOPS:
                new = CMPOPS[type(op)]
                out.append((f"{type(op).__name__} -> {new.__name__}", lambda n, k=k, new=new: n.ops.__setitem__(k, new())))
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append((f"{type(node.op).__name__} -> {new.__name__}", lambda n, new=new: setattr(n, "op", new())))
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (bool, int, float)):
        v = node.value
        new_value = (0 if v is None else (not v) if isinstance(v, bool) else (1 if v == 0 else v + 1)
                     if isinstance(v, int) else (v * 1.1 if v else 1.0))
        out.append((f"{v!r} -> {new_value!r}", lambda n, nv=new_value: setattr(n, "value", nv)))
    if isinstance(node, ast.Attribute) and node.attr in NAMES:
        out.append((f".{node.attr} -> .{NAMES[node.attr]}", lambda n: setattr(n, "attr", NAMES[n.attr])))
    if isinstance(node, ast.Name) and node.id in ("max", "min"):
        out.append((f"{node.id} -> {NAMES[node.id]}", lambda n: setattr(n, "id", NAMES[n.id])))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        out.append((f"drop {type(node.op).__name__}", lambda n: _replace(n, n.operand)))
    if isinstance(node, ast.stmt) and not isinstance(node, KEEP):
        out.append((f"{type(node).__name__} -> pass", lambda n: _replace(n, ast.Pass())))
    return out


def _replace(node: ast.AST, new: ast.AST) -> None:
    """Put ``new`` where ``node`` is in its parent (``node._parent``, set by mutants())."""
    parent = node._parent
    for field, value in ast.iter_fields(parent):
        if value is node:
            setattr(parent, field, new)
        elif isinstance(value, list) and any(v is node for v in value):
            value[next(i for i, v in enumerate(value) if v is node)] = new


def mutants(source: str) -> list[dict]:
    """Every single-point mutant of ``source``: {"id", "line", "change", "code", "text"}, in a fixed order."""
    tree = ast.parse(source)
    skip, lines, out = _left_alone(tree), source.splitlines(), []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        for description, change in _changes(node):
            mutated = copy.deepcopy(tree)
            nodes = list(ast.walk(mutated))
            for parent in nodes:
                for child in ast.iter_child_nodes(parent):
                    child._parent = parent
            change(nodes[index])
            try:
                text = ast.unparse(ast.fix_missing_locations(mutated))
                with warnings.catch_warnings():  # `x is 0` (from None -> 0) is a mutant, not a mistake to warn of
                    warnings.simplefilter("ignore", SyntaxWarning)
                    compile(text, "<mutant>", "exec")
            except (SyntaxError, ValueError):
                continue
            line = getattr(node, "lineno", 0)
            out.append({"id": len(out), "line": line, "change": description,
                        "code": lines[line - 1].strip() if line else "", "text": text})
    return out


def run_one(src: Path, module_name: str, tests: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout': a forked child runs the tests against the package in ``src``."""
    pid = os.fork()
    if pid == 0:
        try:
            sys.path.insert(0, str(src))
            os.environ["PYTHONPATH"] = str(src)  # a test that starts python gets the mutant too
            importlib.invalidate_caches()
            import pytest

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1), os.dup2(devnull, 2)
            module = importlib.import_module(module_name)
            code = 4 if not Path(module.__file__).is_relative_to(src) else pytest.main(
                ["-x", "-q", "-p", "no:cacheprovider", *tests])
        except BaseException:  # noqa: BLE001 (a forked child must always reach os._exit)
            code = 3
        os._exit(int(code))
    start = time.monotonic()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="the module to mutate, e.g. src/rnnbook/ngram.py")
    parser.add_argument("tests", nargs="+", help="the test files that should kill the mutants")
    parser.add_argument("--sample", type=int, default=0, help="run only this many mutants, drawn at random (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of that draw")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant (a hang counts as killed)")
    parser.add_argument("--src", default=str(ROOT / "src"), help="the source tree holding the module (default: ours)")
    parser.add_argument("--json", help="write every mutant's result here")
    parser.add_argument("--replay", help="run only the survivors listed in this --json file (after new tests)")
    args = parser.parse_args(argv)

    src = Path(args.src).resolve()
    rel = Path(args.module).resolve().relative_to(src)
    module_name = ".".join(rel.with_suffix("").parts)
    source = (src / rel).read_text()
    todo = mutants(source)
    if args.replay:
        old = [r for r in json.loads(Path(args.replay).read_text()) if r["status"] == "survived"]
        assert all(todo[r["id"]]["change"] == r["change"] and todo[r["id"]]["line"] == r["line"] for r in old), \
            f"{rel} changed since {args.replay} was written"
        todo = [todo[r["id"]] for r in old]
    elif 0 < args.sample < len(todo):
        todo = sorted(random.Random(args.seed).sample(todo, args.sample), key=lambda m: m["id"])

    sys.dont_write_bytecode = True  # a mutant of the same size in the same second must not reuse a stale .pyc
    sys.path.insert(0, str(src))
    importlib.import_module(module_name)  # the parent pays the imports of numpy, torch, ... once
    import pytest  # noqa: F401
    for name in [m for m in sys.modules if m.split(".")[0] == module_name.split(".")[0]]:
        del sys.modules[name]  # every child imports the package afresh, from the copy holding its mutant
    sys.path.remove(str(src))

    with tempfile.TemporaryDirectory() as tmp:
        copy_src = Path(tmp) / "src"
        shutil.copytree(src, copy_src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        target = copy_src / rel
        t0 = time.perf_counter()
        if run_one(copy_src, module_name, args.tests, timeout=max(600.0, args.timeout)) != "survived":
            print(f"the tests fail on the unmutated module (or {module_name} was not imported from the copy of "
                  f"{src}); fix that first", file=sys.stderr)
            return 2
        drawn = f" (seed {args.seed})" if args.sample and not args.replay else ""
        print(f"{rel}: {len(todo)} mutants{drawn}, "
              f"tests pass in {time.perf_counter() - t0:.1f} s", flush=True)
        results = []
        for k, m in enumerate(todo, 1):
            target.write_text(m["text"])
            t0 = time.perf_counter()
            status = run_one(copy_src, module_name, args.tests, args.timeout)
            results.append({key: m[key] for key in ("id", "line", "change", "code")} | {"status": status})
            print(f"{k:4d} line {m['line']:4d} {m['change']:24s} {status:9s} {time.perf_counter() - t0:5.1f} s  "
                  f"{m['code'][:70]}", flush=True)
    killed = sum(r["status"] != "survived" for r in results)
    timeouts = sum(r["status"] == "timeout" for r in results)
    print(f"\n{rel}: killed {killed} of {len(results)} ({100 * killed / max(1, len(results)):.1f} %), "
          f"{timeouts} of them by timeout; survivors:")
    for r in results:
        if r["status"] == "survived":
            print(f"  line {r['line']:4d}: {r['change']:24s} | {r['code'][:90]}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
