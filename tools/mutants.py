"""Mutation testing, small and exhaustive: does a module's test file fail when the module's code is wrong?

    python tools/mutants.py src/rnnbook/ngram.py tests/test_ngram.py [--timeout 60] [--sample 60 --seed 0]

Every mutant changes one thing in the module's code (docstrings and error-message strings are left alone):
an arithmetic operator (+ -, * /, // /, % *, ** *), a comparison (< <=, > >=, == !=, is / is not), `and`/`or`,
a unary minus or `not` dropped, a number constant changed (0 -> 1, n -> n + 1, x -> x * 1.1, 0.0 -> 1.0), True/False swapped,
`maximum`/`minimum` (and `max`/`min`) swapped, or one statement replaced by `pass`. For each, the test file runs in a
forked process that has the mutated module in place of the real one (imports are paid once, in the parent). A mutant
is *killed* when a test fails or the run exceeds the timeout, and *survives* when every test passes. Prints the score
and each survivor with its line, for a human to judge (some mutants do not change what the code computes).
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Mod: ast.Mult, ast.Pow: ast.Mult}
CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
          ast.Is: ast.IsNot, ast.IsNot: ast.Is}
NAMES = {"maximum": "minimum", "minimum": "maximum", "max": "min", "min": "max"}


def _skip(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Docstrings, f-strings and anything inside a ``raise`` (error messages are not computations)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.Raise, ast.JoinedStr)):
            return True
    return False


def mutants(source: str) -> list[tuple[int, str, str]]:
    """(line, description, mutated source) for every single-point mutation of ``source``."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = []
    for index, node in enumerate(ast.walk(tree)):
        if _skip(node, parents) or id(node) in docstrings:
            continue
        changes: list[tuple[str, callable]] = []
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            new = BINOPS[type(node.op)]
            changes.append((f"{type(node.op).__name__} -> {new.__name__}", lambda n, new=new: setattr(n, "op", new())))
        if isinstance(node, ast.AugAssign) and type(node.op) in BINOPS:
            new = BINOPS[type(node.op)]
            changes.append((f"{type(node.op).__name__}= -> {new.__name__}=",
                            lambda n, new=new: setattr(n, "op", new())))
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in CMPOPS:
                    new = CMPOPS[type(op)]
                    changes.append((f"{type(op).__name__} -> {new.__name__}",
                                    lambda n, k=k, new=new: n.ops.__setitem__(k, new())))
        if isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            changes.append((f"{type(node.op).__name__} -> {new.__name__}", lambda n, new=new: setattr(n, "op", new())))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            changes.append((f"drop {type(node.op).__name__}", None))  # replaced by its operand below
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            v = node.value
            new_value = (not v) if isinstance(v, bool) else (1 if v == 0 else v + 1) if isinstance(v, int) else (v * 1.1 if v else 1.0)
            changes.append((f"constant {v!r} -> {new_value!r}", lambda n, nv=new_value: setattr(n, "value", nv)))
        if isinstance(node, ast.Attribute) and node.attr in NAMES:
            changes.append((f".{node.attr} -> .{NAMES[node.attr]}",
                            lambda n: setattr(n, "attr", NAMES[n.attr])))
        if isinstance(node, ast.Name) and node.id in ("max", "min"):
            changes.append((f"{node.id} -> {NAMES[node.id]}", lambda n: setattr(n, "id", NAMES[n.id])))
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Import,
                                                                  ast.ImportFrom, ast.Pass)):
            if not (isinstance(node, ast.Expr) and id(node.value) in docstrings):
                changes.append(("statement -> pass", "pass"))
        for description, change in changes:
            mutated = copy.deepcopy(tree)
            target = list(ast.walk(mutated))[index]
            if change == "pass":
                mparents = {c: p for p in ast.walk(mutated) for c in ast.iter_child_nodes(p)}
                parent = mparents[target]
                for field, value in ast.iter_fields(parent):
                    if isinstance(value, list) and target in value:
                        value[value.index(target)] = ast.Pass()
            elif change is None:  # drop a unary operator: the node becomes its operand
                mparents = {c: p for p in ast.walk(mutated) for c in ast.iter_child_nodes(p)}
                parent = mparents[target]
                for field, value in ast.iter_fields(parent):
                    if value is target:
                        setattr(parent, field, target.operand)
                    elif isinstance(value, list) and target in value:
                        value[value.index(target)] = target.operand
            else:
                change(target)
            try:
                text = ast.unparse(ast.fix_missing_locations(mutated))
                compile(text, "<mutant>", "exec")
            except (SyntaxError, ValueError):
                continue
            out.append((getattr(node, "lineno", 0), description, text))
    return out


def run_one(module_name: str, text: str, test_file: str, timeout: float) -> str:
    """'killed', 'survived' or 'timeout', from a forked child running the tests against the mutant."""
    pid = os.fork()
    if pid == 0:  # the child: put the mutant in place of the module, run the tests, exit with pytest's code
        try:
            import pytest

            module = importlib.util.module_from_spec(importlib.util.find_spec(module_name))
            sys.modules[module_name] = module
            exec(compile(text, module.__spec__.origin, "exec"), module.__dict__)
            package, _, leaf = module_name.rpartition(".")
            setattr(sys.modules[package], leaf, module)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1), os.dup2(devnull, 2)
            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", test_file])
        except BaseException:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="path of the module, e.g. src/rnnbook/ngram.py")
    parser.add_argument("tests", help="the test file that should kill the mutants, e.g. tests/test_ngram.py")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant (a hang counts as killed)")
    parser.add_argument("--sample", type=int, default=0, help="test only this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="the seed of that draw")
    parser.add_argument("--shard", default="0/1", help="i/n: run only every n-th mutant from the i-th (parallel runs)")
    args = parser.parse_args()
    path = Path(args.module).resolve()
    parts = path.relative_to(Path("src").resolve()).with_suffix("").parts
    module_name = ".".join(parts)
    importlib.import_module(module_name)  # the parent pays every import once (numpy, torch, ...)
    import pytest  # noqa: F401

    source = path.read_text()
    all_mutants = mutants(source)
    if 0 < args.sample < len(all_mutants):
        import random

        all_mutants = sorted(random.Random(args.seed).sample(all_mutants, args.sample))
    shard, shards = (int(x) for x in args.shard.split("/"))
    all_mutants = all_mutants[shard::shards]
    print(f"{module_name}: {len(all_mutants)} mutants{' (a sample)' if args.sample else ''}, tests {args.tests}",
          flush=True)
    assert run_one(module_name, source, args.tests, args.timeout) == "survived", "the tests fail on the real module"
    survivors, counts = [], {"killed": 0, "survived": 0, "timeout": 0}
    for k, (line, description, text) in enumerate(all_mutants, 1):
        result = run_one(module_name, text, args.tests, args.timeout)
        counts[result] += 1
        if result == "survived":
            survivors.append((line, description))
            print(f"  survived: line {line}: {description}", flush=True)
        if k % 20 == 0:
            print(f"{k}/{len(all_mutants)} {counts}", flush=True)
    killed = counts["killed"] + counts["timeout"]
    print(f"\n\nkilled {killed} of {len(all_mutants)} ({100 * killed / len(all_mutants):.1f} %), "
          f"of which {counts['timeout']} by timeout; survivors:")
    lines = source.splitlines()
    for line, description in survivors:
        print(f"  line {line}: {description:28s} | {lines[line - 1].strip()[:90]}")


if __name__ == "__main__":
    main()
