"""The claims of a chapter: one table a reader sees, one assert CI sees, one glued output the summary page pastes.

Every chapter ends with

    report_claims("04", {"LSTM beats the trigram (1.98 < 2.10 nats/char)": lstm < trigram, ...},
                  numbers={"lstm-val": lstm, "trigram-val": trigram})

which (1) displays the table of claims with a yes/NO column (``rnnbook.viz.table``), (2) glues it with myst-nb
under the key ``claims-04`` (its HTML and Markdown) and every number under ``claims-04-<name>`` (text), and (3) raises ``AssertionError`` naming
each claim that does not hold. The book's summary page pastes the glued outputs from the *executed* chapters with
myst-nb's cross-document glue, so no number is typed in twice:

    ```{glue} claims-04
    :doc: 04_char_rnn.ipynb
    ```
    and inline: {glue:text}`04_char_rnn.ipynb::claims-04-lstm-val:.3f`

A missing key is a Sphinx warning, so the ``-W`` build fails loudly when a chapter stops reporting its claims.
Outside a Jupyter Book build (e.g. Colab without myst-nb) the table is displayed and asserted but nothing is glued.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping

KEY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]*$")


def claims_key(chapter: str, name: str | None = None) -> str:
    """The glue key of a chapter's table (``claims-04``) or of one of its numbers (``claims-04-lstm-val``)."""
    for part in (chapter, name) if name is not None else (chapter,):
        if not isinstance(part, str) or not KEY.match(part):
            raise ValueError(f"chapter and number names must be letters, digits, '-' or '_' (got {part!r}), "
                             "e.g. report_claims('04', ..., numbers={'lstm-val': 1.9})")
    return f"claims-{chapter}" if name is None else f"claims-{chapter}-{name}"


def _is_bool(value: object) -> bool:
    """A Python bool, a numpy bool, or a one-element boolean array/tensor (what a comparison gives); not 0/1."""
    if isinstance(value, bool):
        return True
    dtype, size = getattr(value, "dtype", None), getattr(value, "size", None)
    size = size() if callable(size) else size  # torch: .size() is a method; numel is what counts
    numel = value.numel() if hasattr(value, "numel") else size
    return dtype is not None and "bool" in str(dtype) and numel == 1


def _check(chapter: str, claims: Mapping[str, object], numbers: Mapping[str, float] | None) -> None:
    claims_key(chapter)
    if not isinstance(claims, Mapping) or not claims:
        raise ValueError(f"chapter {chapter}: claims must be a non-empty dict {{description: bool}}, got {claims!r}")
    for text, value in claims.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"chapter {chapter}: every claim needs a description (a non-empty str), got {text!r}")
        if not _is_bool(value):
            raise TypeError(f"chapter {chapter}: claim {text!r} must be a bool (a comparison), got "
                            f"{type(value).__name__} {value!r}")
    for name, value in (numbers or {}).items():
        claims_key(chapter, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(float(value)):
            raise TypeError(f"chapter {chapter}: number {name!r} must be a finite int or float, got {value!r}")


def claims_table(claims: Mapping[str, object]):
    """The table ``claim | holds`` with ``yes`` or ``NO``: an ``rnnbook.viz.table.Table``, the book's one kind of
    table (HTML in the book and in Jupyter/Colab, a pipe table where only Markdown is shown)."""
    from rnnbook.viz.table import table

    return table([[text, "yes" if value else "NO"] for text, value in claims.items()], columns=["claim", "holds"])


def claims_markdown(claims: Mapping[str, object]) -> str:
    """The claims table as GitHub-flavoured Markdown (a ``|`` in a description is escaped)."""
    return claims_table(claims)._repr_markdown_()


def claims_html(claims: Mapping[str, object]) -> str:
    """The claims table as HTML (what the summary page pastes)."""
    return claims_table(claims)._repr_html_()


def claims_from_markdown(markdown: str) -> dict[str, bool]:
    """Read back a table written by ``claims_markdown``: ``{description: holds}`` (what tools that compare
    executed chapters need; the inverse of ``claims_markdown``)."""
    lines = markdown.strip().splitlines()
    if len(lines) < 2 or [c.strip() for c in lines[0].strip("|").split("|")] != ["claim", "holds"]:
        raise ValueError(f"not a claims table (it must start with '| claim | holds |'): {markdown[:80]!r}")
    claims = {}
    for line in lines[2:]:
        text, value = re.fullmatch(r"\|\s(.*)\s\|\s(yes|NO)\s\|", line.strip()).groups()
        claims[html.unescape(text.replace("\\|", "|"))] = value == "yes"
    return claims


def failed_claims(claims: Mapping[str, object]) -> list[str]:
    """The descriptions of the claims that do not hold."""
    return [text for text, value in claims.items() if not value]


def report_claims(chapter: str, claims: Mapping[str, object], numbers: Mapping[str, float] | None = None,
                  glue: bool = True) -> None:
    """Display the chapter's claims, glue them (``claims-<chapter>``) and its numbers (``claims-<chapter>-<name>``)
    for the summary page, then assert that every claim holds.

    Raises ``AssertionError`` listing every failing claim by its description, ``ValueError``/``TypeError`` when the
    arguments are malformed (a claim that is not a bool, a key with spaces, a NaN number).
    """
    from IPython.display import display

    _check(chapter, claims, numbers)
    claims = {text: bool(value) for text, value in claims.items()}
    shown = claims_table(claims)
    display(shown)
    if glue:
        try:
            from myst_nb import glue as myst_glue
        except ImportError:  # e.g. Colab: nothing to paste into, the table above is what a reader needs
            myst_glue = None
        if myst_glue is not None:
            myst_glue(claims_key(chapter), shown, display=False)
            for name, value in (numbers or {}).items():
                myst_glue(claims_key(chapter, name), float(value), display=False)
    failed = failed_claims(claims)
    if failed:
        raise AssertionError(f"chapter {chapter}: {len(failed)} of {len(claims)} claims do not hold: "
                             + "; ".join(repr(text) for text in failed))
