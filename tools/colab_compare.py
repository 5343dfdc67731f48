"""Compare the claims of two executions of a chapter: the pinned run (`make test`) and the Colab-like run.

Every chapter ends with ``report_claims(...)``, which displays a Markdown table ``| claim | holds |`` (and, under
Jupyter Book, glues the table and its numbers). The executed notebook therefore holds, in its outputs:

- the claims table: each claim's description and ``yes`` / ``**NO**``;
- the glued numbers ``claims-<chapter>-<name>`` (only where myst-nb is installed: the pinned run, not Colab);
- an ``error`` output when a cell failed (a claim that does not hold raises after the table is shown).

A claim's description is an f-string: its numbers are the measured numbers behind it (``LSTM beats the trigram
(1.981 < 2.104 nats/char)``). Two runs' claims are matched by their description with every number replaced by
``#``; then the claim must hold in both, and every number must agree within the tolerance (``close``). Timings
(a number followed by ``s``/``ms``, a speed-up ``9x faster``, a glued name with ``ms``/``time``/``ratio``) are shown
but not compared: they measure the machine, not the book.

    python tools/colab_compare.py _build/executed _build/colab/executed [chapter ...]
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnnbook.claims import claims_from_markdown

# Tolerance for a number behind a claim: RTOL of the larger magnitude or ATOL absolute, whichever is larger, plus
# one unit of the printed precision (two values on either side of a rounding edge print one digit apart).
# Why these values: the Colab-like run changes the thread count (the order of float32 sums) and the numpy/scipy
# versions; a model trained for hundreds of steps then ends elsewhere, as with another seed, and its statistics
# move by a few hundredths (measured: BLEU-4 0.833 vs 0.838, a test accuracy 0.837 vs 0.866, chapter 10's glimpse
# spread 0.160 vs 0.138). The claims' own margins (a bar, a control, a baseline) are wider than these; a number
# that moves by more than 10 % or 0.03 means the chapter computes something else.
RTOL = 0.10
ATOL = 0.03

TABLE_HEAD = "| claim | holds |"
GLUE_MIME = "application/papermill.record/text/plain"

# A number in a claim's description: 1,234 / 0.95 / -2.6 / 1e-06 / 3.4e+05 / 95% / the 19 of "19x faster"; not a digit
# that belongs to a name (MUT1-3, BLEU-4, float32, 8x8).
NUMBER = re.compile(r"(?<![A-Za-z_\d.])(?<![A-Za-z_\d]-)(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)(%?)"
                    r"(?![A-Za-z_]\w)")
# What follows a timing: "12 s", "38 ms", "9x faster", "2.1× slower".
TIMING_AFTER = re.compile(r"\s*(?:s|ms|µs|us|sec|seconds?|min|minutes?)\b|\s*[x×]\s*(?:faster|slower)")
TIMING_NAME = re.compile(r"(?:^|[-_])(?:ms|s|sec|seconds|time|timing|ratio|speed|speedup)(?:[-_]|$)")


@dataclass(frozen=True)
class Number:
    """A number as printed in a claim: its value, its printed text, the unit of its last digit, timing or not."""

    value: float
    text: str
    unit: float
    timing: bool = False


@dataclass
class Claim:
    text: str
    holds: bool
    template: str
    numbers: list[Number]


@dataclass
class ChapterRun:
    """What one execution of a chapter reports: its claims (None when no table was shown), glued numbers, error."""

    name: str
    claims: list[Claim] | None
    glued: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None


def parse_number(text: str, percent: bool) -> tuple[float, float]:
    """The value and the unit of the last printed digit of ``text`` (a percentage as a fraction: 95% -> 0.95)."""
    mantissa, _, exponent = text.replace(",", "").lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    scale = 10.0 ** int(exponent) if exponent else 1.0
    value, unit = float(mantissa) * scale, 10.0 ** -decimals * scale
    return (value / 100, unit / 100) if percent else (value, unit)


def split_claim(text: str) -> tuple[str, list[Number]]:
    """A claim's template (every number replaced by ``#``) and its numbers, in order."""
    numbers = []
    for match in NUMBER.finditer(text):
        value, unit = parse_number(match.group(1), bool(match.group(2)))
        timing = bool(TIMING_AFTER.match(text, match.end()))
        numbers.append(Number(value, match.group(0), unit, timing))
    return NUMBER.sub("#", text), numbers


def parse_claims_table(markdown: str) -> list[Claim]:
    """The rows of ``rnnbook.claims.claims_markdown``'s table (read by ``rnnbook.claims.claims_from_markdown``),
    each split into its template and numbers."""
    return [Claim(text, holds, *split_claim(text)) for text, holds in claims_from_markdown(markdown).items()]


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def parse_notebook(nb: nbformat.NotebookNode, name: str) -> ChapterRun:
    """Read the claims table, the glued numbers and the first error from an executed notebook."""
    run = ChapterRun(name, None, seconds=nb.metadata.get("rnnbook", {}).get("execution_seconds"))
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code_cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error" and run.error is None:
                evalue = _text(out.get("evalue", "")).strip().splitlines()
                run.error = f"code cell {index + 1}: {out.get('ename', 'Error')}: {evalue[0] if evalue else ''}"
            data = out.get("data", {})
            markdown = _text(data.get("text/markdown", ""))
            if markdown.lstrip().startswith(TABLE_HEAD):
                run.claims = (run.claims or []) + parse_claims_table(markdown)
            glue_name = out.get("metadata", {}).get("scrapbook", {}).get("name", "")
            if GLUE_MIME in data and glue_name.startswith("claims-"):
                try:
                    run.glued[glue_name] = float(_text(data[GLUE_MIME]).strip("'\""))
                except ValueError:
                    pass  # the glued table itself (text/plain of an HTML object), not a number
    return run


def read_run(path: Path) -> ChapterRun:
    return parse_notebook(nbformat.read(path, as_version=4), path.stem)


def is_timing_name(key: str) -> bool:
    return bool(TIMING_NAME.search(key))


def close(a: float, b: float, unit: float = 0.0, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """``a`` and ``b`` agree: within ``rtol`` of the larger magnitude or ``atol``, plus one printed unit."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= max(rtol * max(abs(a), abs(b)), atol) + unit


@dataclass
class Row:
    """One claim of a chapter in both runs; ``problems`` is empty when they agree."""

    claim: str
    pinned: bool | None
    colab: bool | None
    numbers: str
    problems: list[str]


@dataclass
class Comparison:
    name: str
    rows: list[Row]
    problems: list[str]  # chapter-level: an error, a missing table, a glued number out of tolerance
    pinned_seconds: float | None = None
    colab_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and all(not row.problems for row in self.rows)


def _numbers_cell(pinned: list[Number], colab: list[Number], rtol: float, atol: float) -> tuple[str, list[str]]:
    if len(pinned) != len(colab):  # cannot happen for equal templates; kept as a guard
        return "", [f"{len(pinned)} vs {len(colab)} numbers"]
    shown, problems = [], []
    for p, c in zip(pinned, colab):
        if p.text == c.text:
            continue
        if p.timing or c.timing:
            shown.append(f"{p.text}->{c.text} (timing)")
            continue
        shown.append(f"{p.text}->{c.text}")
        if not close(p.value, c.value, max(p.unit, c.unit), rtol, atol):
            problems.append(f"{p.text} vs {c.text} beyond tolerance")
    return ", ".join(shown) if shown else "same", problems


def compare_runs(pinned: ChapterRun, colab: ChapterRun, rtol: float = RTOL, atol: float = ATOL) -> Comparison:
    """Match the two runs' claims by template, in order; every difference becomes a problem of its row."""
    comparison = Comparison(pinned.name, [], [], pinned.seconds, colab.seconds)
    if colab.error:
        comparison.problems.append(f"Colab-like run failed at {colab.error}")
    if pinned.error:
        comparison.problems.append(f"pinned run failed at {pinned.error}")
    if pinned.claims is None:
        comparison.problems.append("the pinned run shows no claims table")
        return comparison
    if colab.claims is None:
        comparison.problems.append("the Colab-like run shows no claims table (it stopped before report_claims)")
        colab_claims: list[Claim] = []
    else:
        colab_claims = list(colab.claims)
    for p in pinned.claims:
        match = next((c for c in colab_claims if c.template == p.template), None)
        if match is None:
            problems = [] if colab.claims is None else ["missing in the Colab-like run"]
            comparison.rows.append(Row(p.text, p.holds, None, "", problems or ["not reached"]))
            continue
        colab_claims.remove(match)
        numbers, problems = _numbers_cell(p.numbers, match.numbers, rtol, atol)
        if p.holds != match.holds:
            word = lambda holds: "yes" if holds else "NO"
            problems.insert(0, f"holds {word(p.holds)} pinned, {word(match.holds)} Colab-like")
        elif not match.holds:
            problems.insert(0, "does not hold in either run")
        comparison.rows.append(Row(match.text, p.holds, match.holds, numbers, problems))
    for c in colab_claims:
        comparison.rows.append(Row(c.text, None, c.holds, "", ["not in the pinned run"]))
    for key in sorted(set(pinned.glued) & set(colab.glued)):
        a, b = pinned.glued[key], colab.glued[key]
        if not is_timing_name(key) and not close(a, b, 0.0, rtol, atol):
            comparison.problems.append(f"glued {key}: {a:.6g} vs {b:.6g} beyond tolerance")
    return comparison


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(comparison: Comparison, width: int = 72) -> str:
    """A plain-text table: claim | pinned | Colab-like | numbers (pinned->Colab-like) | verdict."""
    mark = lambda holds: "-" if holds is None else ("yes" if holds else "NO")
    seconds = lambda s: "?" if s is None else f"{s:.0f} s"
    head = (f"chapter {comparison.name}: {'same claims' if comparison.ok else 'DIFFERS'} "
            f"(pinned {seconds(comparison.pinned_seconds)}, Colab-like {seconds(comparison.colab_seconds)})")
    lines = [head, f"  {'claim':<{width}}  pinned  colab  verdict  numbers (pinned->colab; timings not compared)"]
    for row in comparison.rows:
        verdict = "ok" if not row.problems else "DIFF"
        detail = row.numbers if not row.problems else "; ".join(row.problems + ([row.numbers] if row.numbers else []))
        lines.append(f"  {_cut(row.claim, width):<{width}}  {mark(row.pinned):<6}  {mark(row.colab):<5}  "
                     f"{verdict:<7}  {detail}")
    lines += [f"  ! {problem}" for problem in comparison.problems]
    return "\n".join(lines)


def compare_dirs(pinned_dir: Path, colab_dir: Path, names: list[str], rtol: float = RTOL,
                 atol: float = ATOL) -> list[Comparison]:
    comparisons = []
    for name in names:
        pinned_path, colab_path = pinned_dir / f"{name}.ipynb", colab_dir / f"{name}.ipynb"
        if not colab_path.is_file():
            comparisons.append(Comparison(name, [], [f"no Colab-like run: {colab_path} is missing"]))
            continue
        if not pinned_path.is_file():
            colab = read_run(colab_path)
            problems = [f"no pinned run: {pinned_path} is missing (`make test` keeps a chapter only when it passes)"]
            problems += [f"Colab-like run failed at {colab.error}"] if colab.error else []
            comparisons.append(Comparison(name, [], problems, None, colab.seconds))
            continue
        comparisons.append(compare_runs(read_run(pinned_path), read_run(colab_path), rtol, atol))
    return comparisons


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    pinned_dir, colab_dir = Path(argv[0]), Path(argv[1])
    names = argv[2:] or sorted(p.stem for p in colab_dir.glob("*.ipynb"))
    comparisons = compare_dirs(pinned_dir, colab_dir, names)
    for comparison in comparisons:
        print(format_table(comparison), end="\n\n")
    bad = [c.name for c in comparisons if not c.ok]
    print(f"claims compared with tolerance max({RTOL:.0%} relative, {ATOL} absolute) + one printed unit, timings "
          f"excepted: {len(comparisons) - len(bad)} of {len(comparisons)} chapters agree"
          + (f"; differ: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
