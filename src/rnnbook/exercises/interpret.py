"""Checks for the interpretable-cells chapter's exercises. Each prints what is wrong, and returns a bool."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import as_mask, as_number
from rnnbook.exercises.common import call as _call
from rnnbook.interpret import c_features

_COMMENTS = ["a /* b */ c", "x // y\nz", 'p = "/* no */"; q', "/*/ still */ out", "a/b /* c\n d */ e // f */"]


def check_auc(fn: Callable) -> bool:
    """Check ``fn(scores (T,), labels (T,) bool) -> float``: the area under the ROC curve, ties counted half."""
    name = "check_auc"
    rng = np.random.default_rng(0)
    cases = [(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])),
             (np.array([1.0, 1.0, 0.0, 0.0, 1.0]), np.array([True, False, False, True, True])),  # ties
             (-np.arange(6.0), np.array([True, True, True, False, False, False]))]
    labels = rng.random(200) < 0.3
    cases.append((labels + rng.normal(size=200), labels))
    for scores, labels in cases:
        from sklearn.metrics import roc_auc_score

        ok, got = _call(name, fn, scores.copy(), labels.copy())
        if not ok:
            return False
        got = as_number(name, got)
        if got is None:
            return False
        want = roc_auc_score(labels, scores)
        if abs(got - want) > 1e-9:
            print(f"{name}: for scores {np.round(scores[:6], 3).tolist()}... and labels "
                  f"{labels[:6].astype(int).tolist()}... got {got:.4f}, expected {want:.4f}.")
            if abs(got - (1 - want)) < 1e-9:
                print("  hint: that is 1 - AUC: count the pairs where the *positive* scores higher.")
            return False
    print(f"{name}: correct.")
    return True


def check_inside_comment(fn: Callable) -> bool:
    """Check ``fn(text) -> bool array``: inside a C comment, from the character that opens it ('*' of "/*", second
    '/' of "//") up to, not including, the one that closes it ('/' of "*/", the newline); not inside strings."""
    name = "check_inside_comment"
    for text in _COMMENTS:
        ok, got = _call(name, fn, text)
        if not ok:
            return False
        want = c_features(text)["comment"]
        got = as_mask(name, got, want.shape, f"the mask for {text!r} (one value per character)")
        if got is None:
            return False
        if not np.array_equal(got.astype(bool), want):
            t = int(np.flatnonzero(got.astype(bool) != want)[0])
            print(f"{name}: for {text!r}, character {t} ({text[t]!r}) should be "
                  f"{'inside' if want[t] else 'outside'} a comment.\n  expected: "
                  + "".join("^" if w else "." for w in want) + "\n  got:      "
                  + "".join("^" if g else "." for g in got.astype(bool)))
            return False
    print(f"{name}: correct.")
    return True


_INDENTS = ["\tint x;\n    y = 1;\nz\n", "  \n\t\tif (a)  b;\n", "no indent  here\n", "\n \t mixed\n\n"]


def _in_indent(text: str) -> np.ndarray:
    out, start = np.zeros(len(text), dtype=bool), True
    for t, ch in enumerate(text):
        if ch == "\n":
            start = True
        elif start and ch in " \t":
            out[t] = True
        else:
            start = False
    return out


def check_in_indent(fn: Callable) -> bool:
    """Check ``fn(text) -> bool array (len(text),)``: True on the spaces and tabs that open a line (its
    indentation), False on everything else: the newline itself, and spaces after the first other character."""
    name = "check_in_indent"
    for text in _INDENTS:
        ok, got = _call(name, fn, text)
        if not ok:
            return False
        want = _in_indent(text)
        got = as_mask(name, got, want.shape, f"the mask for {text!r} (one value per character)")
        if got is None:
            return False
        if np.array_equal(got, want):
            continue
        t = int(np.flatnonzero(got != want)[0])
        print(f"{name}: for {text!r}, character {t} ({text[t]!r}) should be "
              f"{'inside' if want[t] else 'outside'} the indentation.\n  expected: "
              + "".join("^" if w else "." for w in want) + "\n  got:      " + "".join("^" if g else "." for g in got))
        blank = np.array([ch in " \t" for ch in text])
        if np.array_equal(got, blank):
            print("  hint: you marked every space and tab; only those before the first other character of a line count.")
        elif np.array_equal(got, want | np.array([ch == "\n" for ch in text])):
            print("  hint: the newline ends its line; it is not indentation.")
        elif np.array_equal(got, want & np.array([ch == " " for ch in text])):
            print("  hint: a tab indents too (the C corpus indents with tabs).")
        return False
    print(f"{name}: correct.")
    return True
