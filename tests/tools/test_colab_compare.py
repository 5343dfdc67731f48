"""The comparison behind `make colab-check`: claims read back from executed notebooks and matched across two runs.

The executed notebooks here are made by the real ``report_claims`` (its displays and myst-nb's glue captured as a
kernel would record them), so a change in what report_claims shows breaks these tests, not the CI run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]


spec = importlib.util.spec_from_file_location("colab_compare", ROOT / "tools" / "colab_compare.py")
cc = importlib.util.module_from_spec(spec)
sys.modules["colab_compare"] = cc  # dataclasses look their module up there
spec.loader.exec_module(cc)


def executed(claims: dict[str, bool], numbers: dict[str, float] | None = None, glue: bool = True,
             error_before: str | None = None, seconds: float = 10.0) -> nbformat.NotebookNode:
    """A chapter as nbclient saves it: a setup cell, then the claims cell with what report_claims displayed."""
    import IPython.display
    import myst_nb.ext.glue
    from IPython.core.formatters import format_display_data

    from rnnbook.claims import report_claims

    nb = nbformat.v4.new_notebook()
    nb.metadata["rnnbook"] = {"execution_seconds": seconds}
    setup = nbformat.v4.new_code_cell("import rnnbook")
    setup.outputs = [nbformat.v4.new_output("stream", name="stdout", text="rnnbook: seed=0 device=cpu scale=ci\n")]
    cell = nbformat.v4.new_code_cell("report_claims(...)")
    nb.cells = [setup, cell]
    if error_before:
        setup.outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue=error_before, traceback=[]))
        return nb

    def display(obj, raw=False, metadata=None):
        if raw:  # myst-nb's glue: a raw mime bundle with scrapbook metadata
            cell.outputs.append(nbformat.v4.new_output("display_data", data=obj, metadata=metadata or {}))
        else:
            data, meta = format_display_data(obj)
            cell.outputs.append(nbformat.v4.new_output("display_data", data=data, metadata=meta))

    mp = pytest.MonkeyPatch()
    mp.setattr(IPython.display, "display", display)
    mp.setattr(myst_nb.ext.glue, "ipy_display", display)
    try:
        report_claims("04", claims, numbers=numbers, glue=glue)
    except AssertionError as err:
        cell.outputs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue=str(err), traceback=[]))
    finally:
        mp.undo()
    return nb


def run(claims, **kwargs) -> "cc.ChapterRun":
    """Parse the chapter after a round trip through the file format (what the comparison reads from disk)."""
    return cc.parse_notebook(nbformat.reads(nbformat.writes(executed(claims, **kwargs)), as_version=4), "04")


def test_reads_back_what_report_claims_shows_and_glues():
    got = run({"LSTM beats the trigram (1.776 < 2.045 nats/char)": True, "a | b, with a pipe": False},
              numbers={"lstm-val": 1.7761234, "step-ms-lstm": 38.2})
    assert [c.text for c in got.claims] == ["LSTM beats the trigram (1.776 < 2.045 nats/char)", "a | b, with a pipe"]
    assert [c.holds for c in got.claims] == [True, False]
    assert got.glued == {"claims-04-lstm-val": 1.7761234, "claims-04-step-ms-lstm": 38.2}
    assert got.error.startswith("code cell 2: AssertionError") and "a | b, with a pipe" in got.error
    assert got.seconds == 10.0


@pytest.mark.parametrize("text,template,values", [
    ("LSTM beats the trigram (1.776 < 2.045 nats/char)", "LSTM beats the trigram (# < # nats/char)", [1.776, 2.045]),
    ("held-out loss: twin 2.20 (504,000 characters, 1 s)", "held-out loss: twin # (# characters, # s)",
     [2.20, 504000, 1]),
    ("samples look more like the text (30% -> 95% of pairs)", "samples look more like the text (# -> # of pairs)",
     [0.30, 0.95]),
    ("gradient at lag 50 = 1.6e+06 > 1e4 (error 6.0e-06 < 1e-5)", "gradient at lag # = # > # (error # < #)",
     [50, 1.6e6, 1e4, 6e-6, 1e-5]),
    ("at least 4 of LSTM, GRU, MUT1-3 solve it; float32 on 8x8 digits; BLEU-4 -0.5", "at least # of LSTM, GRU, "
     "MUT1-3 solve it; float32 on 8x8 digits; BLEU-4 #", [4, -0.5]),
])
def test_numbers_in_a_claim(text, template, values):
    got_template, numbers = cc.split_claim(text)
    assert got_template == template
    assert [n.value for n in numbers] == pytest.approx(values)


def test_timings_are_recognised():
    _, numbers = cc.split_claim("twin float32 is 19x faster here (504,000 characters, 12 s; 38 ms per step)")
    assert [n.timing for n in numbers] == [True, False, True, True]
    assert cc.is_timing_name("step-ms-lstm") and cc.is_timing_name("step-ratio")
    assert not cc.is_timing_name("lstm-val") and not cc.is_timing_name("bleu4-beam-norm")


def test_tolerance():
    assert cc.close(0.0114, 0.0113, unit=0.0001)  # chapter 8's overfit loss with two threads instead of one
    assert cc.close(1.776, 1.810)  # 2 % apart
    assert not cc.close(1.776, 1.990)  # 11 % apart
    assert cc.close(0.160, 0.138, unit=0.001)  # chapter 10's glimpse spread, one thread vs two
    assert cc.close(0.95, 0.97) and not cc.close(0.20, 0.25)  # small values: 0.03 absolute
    assert cc.close(6e-6, 2e-6)  # tiny errors differ relatively but not absolutely
    assert not cc.close(float("nan"), float("nan"))


def _compare(pinned_claims, colab_claims, **kwargs):
    return cc.compare_runs(run(pinned_claims, **kwargs), run(colab_claims, glue=False))


def test_same_claims_within_tolerance_agree_and_timings_are_not_compared():
    comparison = _compare(
        {"LSTM beats the trigram (1.776 < 2.045 nats/char)": True, "twin is 19x faster (1 s)": True},
        {"LSTM beats the trigram (1.790 < 2.041 nats/char)": True, "twin is 4x faster (9 s)": True},
        numbers={"lstm-val": 1.776})
    assert comparison.ok, cc.format_table(comparison)
    assert comparison.rows[1].numbers == "19->4 (timing), 1->9 (timing)"
    assert "same claims" in cc.format_table(comparison)


def test_a_number_beyond_tolerance_differs():
    comparison = _compare({"LSTM beats the trigram (1.776 < 2.045 nats/char)": True},
                          {"LSTM beats the trigram (1.990 < 2.045 nats/char)": True})
    assert not comparison.ok
    assert comparison.rows[0].problems == ["1.776 vs 1.990 beyond tolerance"]
    table = cc.format_table(comparison)
    assert "DIFFERS" in table and "DIFF " in table


def test_a_claim_that_fails_in_one_run_differs():
    comparison = _compare({"recall learned (min accuracy 0.95)": True, "other": True},
                          {"recall learned (min accuracy 0.85)": False, "other": True})
    assert not comparison.ok
    assert comparison.rows[0].problems[0] == "holds yes pinned, NO Colab-like"
    assert any("Colab-like run failed at code cell 2: AssertionError" in p for p in comparison.problems)
    assert not comparison.rows[1].problems


def test_missing_and_extra_claims_differ():
    comparison = _compare({"one": True, "two": True}, {"one": True, "three": True})
    assert [row.problems for row in comparison.rows] == [[], ["missing in the Colab-like run"],
                                                         ["not in the pinned run"]]


def test_a_chapter_that_stops_before_its_claims_differs():
    pinned = run({"a C cell detects comments (AUC = 0.930 >= 0.9)": True})
    colab = run({}, error_before="AUC needs both classes; the labels hold 0 positives and 12000 negatives")
    comparison = cc.compare_runs(pinned, colab)
    assert not comparison.ok
    assert comparison.problems[0] == ("Colab-like run failed at code cell 1: ValueError: AUC needs both classes; "
                                      "the labels hold 0 positives and 12000 negatives")
    assert "no claims table" in comparison.problems[1] and comparison.rows[0].problems == ["not reached"]


def test_glued_numbers_compared_when_both_runs_have_them():
    pinned = run({"x": True}, numbers={"lstm-val": 1.70, "step-ms-lstm": 38.0})
    same = cc.compare_runs(pinned, run({"x": True}, numbers={"lstm-val": 1.71, "step-ms-lstm": 90.0}))
    assert same.ok
    worse = cc.compare_runs(pinned, run({"x": True}, numbers={"lstm-val": 1.95, "step-ms-lstm": 38.0}))
    assert worse.problems == ["glued claims-04-lstm-val: 1.7 vs 1.95 beyond tolerance"]


def test_compare_dirs_names_a_missing_pinned_run(tmp_path):
    (tmp_path / "pinned").mkdir(), (tmp_path / "colab").mkdir()
    nbformat.write(executed({"x": True}), tmp_path / "colab" / "04_char_rnn.ipynb")
    (comparison,) = cc.compare_dirs(tmp_path / "pinned", tmp_path / "colab", ["04_char_rnn"])
    assert not comparison.ok
    assert "is missing (`make test` keeps a chapter only when it passes)" in comparison.problems[0]
    nbformat.write(executed({"x": True}), tmp_path / "pinned" / "04_char_rnn.ipynb")
    (comparison,) = cc.compare_dirs(tmp_path / "pinned", tmp_path / "colab", ["04_char_rnn"])
    assert comparison.ok
    assert cc.main([str(tmp_path / "pinned"), str(tmp_path / "colab")]) == 0
