"""Sampled mutation testing: do a module's unit tests notice when its code is changed?

    python tools/mutation_sample.py src/rnnbook/tbptt.py tests/test_tbptt.py tests/test_bad_input.py [--n 60]

Every mutation point of the module is listed (an arithmetic operator swapped, a comparison flipped, ``and`` <->
``or``, a ``not`` dropped, a number changed, a statement replaced by ``pass``, a ``True``/``False``/``None`` changed),
``--n`` of them are drawn with ``--seed``, and for each one the test files run (``pytest -x``) against a copy of
``src/`` holding the mutated module. A mutant is *killed* when a test fails (or the run times out), *survives* when
every test passes. Prints one line per mutant and the score; ``--json`` writes the survivors for review.
mutmut does the same exhaustively; on two shared cores a fixed-seed sample of the same kinds of mutation is what
fits (the robustness issue measured 60 a module the same way).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
            ast.Mod: ast.Mult, ast.Pow: ast.Mult}
SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


def mutation_points(tree: ast.AST) -> list[tuple[int, str]]:
    """(node index in ast.walk order, kind) for every place a mutation applies. Docstrings are left alone."""
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    annotations = set()  # never evaluated (from __future__ import annotations): mutating them proves nothing
    for n in ast.walk(tree):
        roots = []
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = n.args
            roots = [n.returns] + [x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                                   if x is not None]
        elif isinstance(n, ast.AnnAssign):
            roots = [n.annotation]
        annotations |= {id(m) for r in roots if r is not None for m in ast.walk(r)}
    points = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in annotations:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in SWAP_BIN:
            points.append((i, "binop"))
        elif isinstance(node, ast.AugAssign) and type(node.op) in SWAP_BIN:
            points.append((i, "augassign"))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAP_CMP:
            points.append((i, "compare"))
        elif isinstance(node, ast.BoolOp):
            points.append((i, "boolop"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            points.append((i, "unary"))
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, bool) or node.value is None:
                points.append((i, "singleton"))
            elif isinstance(node.value, (int, float)):
                points.append((i, "number"))
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.Raise, ast.If, ast.For, ast.With,
                             ast.Try, ast.AnnAssign)) and not (isinstance(node, ast.Expr) and id(node.value) in docstrings):
            points.append((i, "delete"))
    return points


def mutate(tree: ast.AST, index: int, kind: str) -> tuple[ast.AST, int, str]:
    """A mutated copy of ``tree``; the line and a short description of the change."""
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[index]
    line = getattr(node, "lineno", 0)
    if kind in ("binop", "augassign"):
        old = type(node.op)
        node.op = SWAP_BIN[old]()
        what = f"{old.__name__} -> {type(node.op).__name__}"
    elif kind == "compare":
        old = type(node.ops[0])
        node.ops[0] = SWAP_CMP[old]()
        what = f"{old.__name__} -> {type(node.ops[0]).__name__}"
    elif kind == "boolop":
        old = type(node.op)
        node.op = ast.Or() if old is ast.And else ast.And()
        what = f"{old.__name__} -> {type(node.op).__name__}"
    elif kind == "unary":  # -x -> +x; not x -> +x (for a bool, +x has the truth value of x)
        what = f"drop {type(node.op).__name__}"
        node.op = ast.UAdd()
    elif kind == "singleton":
        new = {True: False, False: True, None: 0}[node.value]
        what = f"{node.value!r} -> {new!r}"
        node.value = new
    elif kind == "number":
        new = node.value + 1 if node.value in (0, 1) or isinstance(node.value, int) else node.value * 2
        what = f"{node.value!r} -> {new!r}"
        node.value = new
    else:  # delete: replace the statement by pass
        for p in ast.walk(tree):
            for f in ("body", "orelse", "finalbody"):
                block = getattr(p, f, None)
                if isinstance(block, list) and any(s is node for s in block):
                    block[[i for i, s in enumerate(block) if s is node][0]] = ast.Pass()
        what = f"delete {type(node).__name__}"
    return ast.fix_missing_locations(tree), line, what


def run_tests(src: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        status = "survived" if proc.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        status = "killed (timeout)"
    return status, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="the module to mutate, e.g. src/rnnbook/tbptt.py")
    parser.add_argument("tests", nargs="+", help="the test files that should notice")
    parser.add_argument("--n", type=int, default=60, help="mutants to draw (default 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--src", default=str(ROOT / "src"), help="the source tree to copy (default: this one's)")
    parser.add_argument("--json", help="write every mutant's result here")
    parser.add_argument("--replay", help="run again only the survivors listed in this --json file (after new tests)")
    args = parser.parse_args(argv)

    src = Path(args.src).resolve()
    module = Path(args.module).resolve()
    rel = module.relative_to(ROOT / "src") if module.is_relative_to(ROOT / "src") else module.relative_to(src)
    source = (src / rel).read_text()
    tree = ast.parse(source)
    points = mutation_points(tree)
    sample = sorted(random.Random(args.seed).sample(points, min(args.n, len(points))))
    if args.replay:
        sample = [(r["index"], r["kind"]) for r in json.loads(Path(args.replay).read_text()) if r["status"] == "survived"]
    with tempfile.TemporaryDirectory() as tmp:
        copy_src = Path(tmp) / "src"
        shutil.copytree(src, copy_src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        status, base = run_tests(copy_src, args.tests, timeout=600)
        if status != "survived":
            print(f"the tests fail on the unmutated code ({status}); fix that first", file=sys.stderr)
            return 2
        print(f"{rel}: {len(points)} mutation points, {len(sample)} drawn (seed {args.seed}); tests pass in "
              f"{base:.1f} s", flush=True)
        results = []
        target = copy_src / rel
        for k, (index, kind) in enumerate(sample):
            mutated, line, what = mutate(tree, index, kind)
            target.write_text(ast.unparse(mutated))
            status, seconds = run_tests(copy_src, args.tests, timeout=max(60.0, 3 * base))
            results.append({"index": index, "line": line, "kind": kind, "change": what, "status": status,
                            "code": source.splitlines()[line - 1].strip() if line else ""})
            print(f"{k + 1:3d} line {line:4d} {what:28s} {status:16s} {seconds:5.1f} s  "
                  f"{results[-1]['code'][:70]}", flush=True)
        target.write_text(source)
    killed = sum(r["status"] != "survived" for r in results)
    print(f"\n{rel}: {killed}/{len(results)} killed = {100 * killed / len(results):.0f} %")
    for r in results:
        if r["status"] == "survived":
            print(f"  survived: line {r['line']}: {r['change']}: {r['code']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
