"""tools/claims_seeds.py: which comparisons it finds in a cell, and the margins it computes from them."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "claims_seeds.py"
SPEC = importlib.util.spec_from_file_location("claims_seeds", TOOL)
claims_seeds = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(claims_seeds)


def test_comparisons_and_margins():
    comps = claims_seeds._comparisons(ast.parse("a < b <= c and d > 2 * e and f == g", mode="eval").body)
    assert [(op, ast.unparse(x), ast.unparse(y)) for op, x, y in comps] == [
        ("<", "a", "b"), ("<=", "b", "c"), (">", "d", "2 * e")]  # == has no side to be on: holds/fails only
    assert claims_seeds.margin("<", 1.5, 1.6) > 0 and claims_seeds.margin(">", 1.5, 1.6) < 0
    assert claims_seeds.margin("<", None, 1.0) is None


def test_probe_evaluates_asserts_and_claims_in_the_kernel_namespace(capsys):
    cell = 'x, y = 1.0, 3.0\nassert x < y - 1  # a bar\nclaims = {f"x below y ({x})": x < y}\nreport_claims("99", claims)\n'
    code = claims_seeds._probe(cell, 7)
    namespace = {"report_claims": lambda *a: None}
    exec("import json as _cs_json\n" + cell + code, namespace)
    line = capsys.readouterr().out.strip()
    assert line.startswith(claims_seeds.MARK)
    items = __import__("json").loads(line[len(claims_seeds.MARK):])["items"]
    assert [(i["kind"], i["cell"], i["holds"]) for i in items] == [("assert", 7, True), ("claim", 7, True)]
    assert items[0]["cmp"] == [["<", 1.0, 2.0]] and items[1]["label"] == "x below y (1.0)"
    assert claims_seeds._probe("%timeit 1\n", 0) is None and claims_seeds._probe("x = 1\n", 0) is None
