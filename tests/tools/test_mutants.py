"""tools/mutants.py must kill a mutant the tests notice, let a harmless one survive, and leave docs alone."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("mutants", ROOT / "tools" / "mutants.py")
mutants = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutants)

TOY = '''\
from __future__ import annotations


def double(x: int = 5) -> int:
    """Twice x; 2 in this docstring must not be mutated."""
    unused = 7
    if x < 0:
        raise ValueError(f"x must be >= 0, got {x + 1}")
    return x * 2
'''
TOY_TEST = '''\
import pytest
from toypkg.calc import double


def test_double():
    assert double(3) == 6


def test_negative():
    with pytest.raises(ValueError):
        double(-1)
'''


def test_mutants_listed_without_docstrings_annotations_or_messages():
    changes = {(m["line"], m["change"]) for m in mutants.mutants(TOY)}
    assert changes == {(4, "5 -> 6"), (6, "Assign -> pass"), (6, "7 -> 8"), (7, "Lt -> LtE"), (7, "0 -> 1"),
                       (7, "If -> pass"), (8, "Raise -> pass"), (9, "Mult -> Div"), (9, "2 -> 3"),
                       (9, "Return -> pass")}


def test_killed_survived_json_and_replay(tmp_path, capsys):
    (tmp_path / "src" / "toypkg").mkdir(parents=True)
    (tmp_path / "src" / "toypkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "toypkg" / "calc.py").write_text(TOY)
    (tmp_path / "test_calc.py").write_text(TOY_TEST)
    out = tmp_path / "result.json"
    args = [str(tmp_path / "src" / "toypkg" / "calc.py"), str(tmp_path / "test_calc.py"),
            "--src", str(tmp_path / "src"), "--timeout", "60", "--json", str(out)]
    assert mutants.main(args) == 0
    status = {(r["line"], r["change"]): r["status"] for r in json.loads(out.read_text())}
    assert status[(9, "Mult -> Div")] == status[(9, "2 -> 3")] == status[(8, "Raise -> pass")] == "killed"
    # harmless: an unused variable, a default argument no test relies on; not yet tested: x = 0 (`x <= 0`, `x < 1`)
    assert {k for k, s in status.items() if s == "survived"} == {(4, "5 -> 6"), (6, "Assign -> pass"),
                                                                 (6, "7 -> 8"), (7, "Lt -> LtE"), (7, "0 -> 1")}
    assert "line    6: 7 -> 8" in capsys.readouterr().out
    assert (tmp_path / "src" / "toypkg" / "calc.py").read_text() == TOY  # the real module is never written

    (tmp_path / "test_calc.py").write_text(TOY_TEST + "\n\ndef test_zero():\n    assert double(0) == 0\n")
    assert mutants.main(args[:-2] + ["--replay", str(out)]) == 0
    report = capsys.readouterr().out
    assert ": 5 mutants" in report and "killed 2 of 5" in report  # the new test kills `x <= 0` and `x < 1`
