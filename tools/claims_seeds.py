"""Do the book's claims hold beyond one seed? Execute every chapter at seeds 0, 1, 2 and print, per chapter, which
claims and asserts hold at which seed and the margin of each asserted number over its threshold.

    make claims-seeds                                    # every chapter, seeds 0 1 2 (about 3x `make test`'s chapters)
    python tools/claims_seeds.py 04 07 --seeds 0 1 2     # some chapters
    python tools/claims_seeds.py --report-only           # print the table again from the saved results

Each chapter runs in a fresh kernel with ``RNNBOOK_SEED=<seed>`` (read by ``rnnbook.setup()`` in the setup cell), one
OpenMP thread, and errors allowed, so a failing assert does not hide the claims after it. Two things are recorded:

- the table of ``rnnbook.claims.report_claims`` (each claim: holds or not);
- for every top-level ``assert`` of a code cell and every comparison inside the chapter's claims dict, the two sides
  of each comparison ``a < b``, ``a > b`` (also ``<=``, ``>=``, chained, joined with ``and``), evaluated in the kernel
  right after the cell. The margin is how far the asserted number is on the right side of its threshold
  (``b - a`` for ``a < b``; negative: the assert fails). Other asserts (``np.allclose``, ``==``) show holds/fails only.

Results go to ``_build/claims-seeds/<chapter>-seed<N>.json``; the table is printed from all saved results. This is not
part of ``make test``: it takes about three times as long as the chapters do there.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kernel_poll import poll_kernel_replies_in_slices

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "claims-seeds"
MARK = "@@claims-seeds@@"
FLIP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}

PATCH = f'''
import json as _cs_json, rnnbook.claims as _cs_claims
_cs_original = _cs_claims.report_claims
def _cs_report(chapter, claims, numbers=None, glue=True):
    print({MARK!r} + _cs_json.dumps({{"kind": "report", "claims": {{str(k): bool(v) for k, v in claims.items()}}}}))
    return _cs_original(chapter, claims, numbers, glue)
_cs_claims.report_claims = _cs_report
import rnnbook as _cs_rnnbook
_cs_rnnbook.report_claims = _cs_report
'''


def _comparisons(node: ast.AST) -> list[tuple[str, ast.AST, ast.AST]]:
    """The ordered comparisons of an expression: ``a < b < c`` gives (a,<,b), (b,<,c); ``x and y`` gives both's."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [c for value in node.values for c in _comparisons(value)]
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        if all(type(op) in FLIP for op in node.ops):
            return [(FLIP[type(op)], a, b) for op, a, b in zip(node.ops, sides, sides[1:])]
    return []


def _probe(source: str, cell_index: int) -> str | None:
    """Code that evaluates, in the kernel, both sides of each comparison asserted in this cell (None: nothing)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics
        return None
    items = []  # (kind, label-expression-or-text, [(op, left-src, right-src)])
    body = list(tree.body)
    for stmt in list(body):
        if isinstance(stmt, ast.If):  # e.g. `if SCALE == "ci": assert ...`
            body.extend(stmt.body + stmt.orelse)
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            text = ast.get_source_segment(source, stmt.test) or "assert"
            items.append(("assert", repr(" ".join(text.split())[:110]),
                          [(op, ast.unparse(a), ast.unparse(b)) for op, a, b in _comparisons(stmt.test)],
                          ast.unparse(stmt.test)))
        claims_dict = None
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict) and "report_claims" in source:
            claims_dict = stmt.value  # claims = {...}; report_claims("NN", claims)
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and len(stmt.value.args) > 1
                and "report_claims" in ast.unparse(stmt.value.func) and isinstance(stmt.value.args[1], ast.Dict)):
            claims_dict = stmt.value.args[1]  # report_claims("NN", {...})
        if claims_dict is not None:
            for key, value in zip(claims_dict.keys, claims_dict.values):
                if key is None:
                    continue
                items.append(("claim", ast.unparse(key),
                              [(op, ast.unparse(a), ast.unparse(b)) for op, a, b in _comparisons(value)],
                              ast.unparse(value)))
    if not items:
        return None
    lines = ["_cs_out = []"]
    for pos, (kind, label, comps, test) in enumerate(items):
        pairs = ", ".join(f"({op!r}, lambda: ({a}), lambda: ({b}))" for op, a, b in comps)
        lines += [
            "try:",
            f"    _cs_label = str({label})",
            "except Exception:",
            f"    _cs_label = {label!r}",
            "_cs_rows = []",
            f"for _cs_op, _cs_a, _cs_b in [{pairs}]:",
            "    try:",
            "        _cs_rows.append([_cs_op, float(_cs_a()), float(_cs_b())])",
            "    except Exception as _cs_e:",
            "        _cs_rows.append([_cs_op, None, None])",
            "try:",
            f"    _cs_holds = bool({test})",
            "except Exception:",
            "    _cs_holds = None",
            f"_cs_out.append({{'kind': {kind!r}, 'cell': {cell_index}, 'pos': {pos}, 'label': _cs_label, "
            "'cmp': _cs_rows, 'holds': _cs_holds})",
        ]
    lines.append(f"print({MARK!r} + _cs_json.dumps({{'kind': 'probe', 'items': _cs_out}}))")
    return "\n".join(lines)


def run_chapter(path: Path, seed: int, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    cells, probes = [], {}
    first_code = True
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if first_code:  # after the setup cell: record report_claims' table
            cells.append(nbformat.v4.new_code_cell(PATCH))
            first_code = False
        code = _probe(cell.source, index)
        if code is not None:
            probe = nbformat.v4.new_code_cell(code)
            probes[id(probe)] = index
            cells.append(probe)
    cells.append(nbformat.v4.new_code_cell(  # the kernel's CPU time: the chapter's cost on a quiet core
        "import resource as _cs_r\n_cs_u = _cs_r.getrusage(_cs_r.RUSAGE_SELF)\n"
        f"print({MARK!r} + _cs_json.dumps({{'kind': 'cpu', 'seconds': _cs_u.ru_utime + _cs_u.ru_stime}}))"))
    nb.cells = cells
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env={**os.environ, "RNNBOOK_SEED": str(seed)})
    seconds = time.perf_counter() - start
    result = {"chapter": path.stem, "seed": seed, "seconds": round(seconds, 1), "errors": [], "claims": {},
              "checks": []}
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                result["errors"].append({"cell": cell.source.splitlines()[0][:80] if cell.source else "",
                                         "error": f"{out.ename}: {out.evalue[:300]}"})
            if out.output_type == "stream":
                for line in out.text.splitlines():
                    if line.startswith(MARK):
                        record = json.loads(line[len(MARK):])
                        if record["kind"] == "report":
                            result["claims"].update(record["claims"])
                        elif record["kind"] == "cpu":
                            result["cpu_seconds"] = round(record["seconds"], 1)
                        else:
                            result["checks"].extend(record["items"])
    return result


def margin(op: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return b - a if op in ("<", "<=") else a - b


def fmt_checks(checks: list) -> str:
    parts = []
    for op, a, b in checks:
        m = margin(op, a, b)
        parts.append("?" if m is None else f"{m:+.3g}")
    return " ".join(parts)


def report(results: list[dict]) -> str:
    lines = []
    for chapter in sorted({r["chapter"] for r in results}):
        runs = {r["seed"]: r for r in results if r["chapter"] == chapter}
        seeds = sorted(runs)
        cpu = lambda r: f", {r['cpu_seconds']:.0f} s CPU" if "cpu_seconds" in r else ""
        lines.append(f"\n## {chapter}  (wall seconds: " + ", ".join(f"seed {s} {runs[s]['seconds']:.0f}{cpu(runs[s])}"
                                                               for s in seeds) + ")\n")
        lines.append("| claim or assert | " + " | ".join(f"seed {s}" for s in seeds) + " |")
        lines.append("|---|" + "---|" * len(seeds))
        import nbformat
        book = ROOT / "book" / f"{chapter}.ipynb"
        first_lines = ({i: c.source.splitlines()[0][:80] if c.source else "" for i, c in
                        enumerate(nbformat.read(book, as_version=4).cells)} if book.exists() else {})
        rows: dict[tuple, dict] = {}
        for s in seeds:
            for item in runs[s]["checks"]:
                rows.setdefault((item["cell"], item["pos"]), {})[s] = item
        for key, by_seed in sorted(rows.items()):
            label = next(iter(by_seed.values()))["label"]
            cells = []
            for s in seeds:
                item = by_seed.get(s)
                if item is None:
                    cells.append("not run")
                    continue
                holds = {True: "yes", False: "NO", None: "?"}[item["holds"]]
                if item["kind"] == "assert" and first_lines.get(item["cell"]) not in {e["cell"] for e in runs[s]["errors"]}:
                    holds = "yes"  # the cell ran without an error, so its asserts held (a re-evaluation may differ
                    #                when the expression draws random numbers)
                cells.append(holds + (f" ({fmt_checks(item['cmp'])})" if item["cmp"] else ""))
            kind = next(iter(by_seed.values()))["kind"]
            name = ("claim: " if kind == "claim" else f"[cell {key[0]}] assert ") + label.replace("|", "\\|")
            lines.append(f"| {name[:140]} | " + " | ".join(cells) + " |")
        if not any(item["kind"] == "claim" for s in seeds for item in runs[s]["checks"]):
            # no probe of the claims dict: the table of report_claims alone (holds, no margins), claim by claim
            tables = {s: list(runs[s]["claims"].items()) for s in seeds}
            for i in range(max(len(t) for t in tables.values())):
                label = next(t[i][0] for t in tables.values() if i < len(t))
                cells = [("yes" if tables[s][i][1] else "NO") if i < len(tables[s]) else "not run" for s in seeds]
                lines.append(f"| claim: {label[:140]} | " + " | ".join(cells) + " |")
        for s in seeds:
            for e in runs[s]["errors"]:
                lines.append(f"\nseed {s}: error in cell `{e['cell']}`: {e['error'].splitlines()[0][:200]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter prefixes such as 04 or 09b (default: every chapter)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="chapters executed at once (2)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a cell may take (900)")
    parser.add_argument("--report-only", action="store_true", help="print the table from the saved results")
    args = parser.parse_args()
    for name, value in (("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"), ("OMP_WAIT_POLICY", "PASSIVE")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("PYTHONPATH", str(ROOT / "src"))
    OUT.mkdir(parents=True, exist_ok=True)
    poll_kernel_replies_in_slices()
    books = sorted((ROOT / "book").glob("*.ipynb"))
    if args.chapters:
        books = [b for b in books if any(b.stem.split("_")[0] == c for c in args.chapters)]
        if not books:
            sys.exit(f"no chapter matches {args.chapters}; give prefixes such as 04 or 09b")
    if not args.report_only:
        jobs = [(b, s) for b in books for s in args.seeds]

        def one(job):
            book, seed = job
            result = run_chapter(book, seed, args.timeout)
            (OUT / f"{book.stem}-seed{seed}.json").write_text(json.dumps(result, indent=1))
            print(f"{book.stem} seed {seed}: {result['seconds']:.0f} s, {len(result['errors'])} error(s)", flush=True)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, jobs))
    wanted = {b.stem for b in books}
    results = [json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))]
    results = [r for r in results if r["chapter"] in wanted and r["seed"] in args.seeds]
    print(report(results))


if __name__ == "__main__":
    main()
