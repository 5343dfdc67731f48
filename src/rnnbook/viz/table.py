"""Tables: the one way the book shows a table, in the HTML book, the PDF, JupyterLab and Colab alike.

    display(table([["LSTM", 1.981], ["trigram", 2.104]], columns=["model", "nats/char"],
                  formats={"nats/char": ".3f"}))

``table`` returns a ``Table``, an object that knows how to show itself: Jupyter front-ends and the book ask it for
HTML (``_repr_html_``), Markdown-only viewers for a GitHub-flavoured pipe table (``_repr_markdown_``), a terminal for
aligned text (``__repr__``). Cells are escaped, never interpreted: a ``|``, ``*`` or ``$`` in a cell stays that
character. Numbers are right-aligned; a column of text that should read as code or a sample (fixed width) is named in
``mono``.

The HTML carries classes (``rnnbook-table``) that the book's stylesheet colours for light and dark mode, and only
colour-free inline styles (borders, padding), so it reads on any background.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable, Mapping, Sequence

Format = str | Callable[[object], str]

_CELL = "padding:0.25em 0.7em;vertical-align:top;border-bottom:1px solid rgba(128,128,128,0.35);"
_MONO = "font-family:var(--pst-font-family-monospace, monospace);white-space:pre-wrap;font-size:0.9em;"


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


class Table:
    """A table of already chosen rows and columns; see ``table``."""

    def __init__(self, rows: Sequence[Sequence[object]], columns: Sequence[str], formats: Mapping | None = None,
                 caption: str | None = None, mono: Sequence[str | int] = (), float_format: str = ".3g") -> None:
        columns = [str(c) for c in columns]
        if not columns:
            raise ValueError("table: columns must name at least one column, e.g. columns=['model', 'loss']")
        rows = [list(r) for r in rows]
        for i, row in enumerate(rows):
            if len(row) != len(columns):
                raise ValueError(f"table: row {i} has {len(row)} cells but there are {len(columns)} columns "
                                 f"({columns}); give every row one value per column")
        self.columns, self.caption = columns, caption
        index = {name: j for j, name in enumerate(columns)}

        def position(key: str | int, what: str) -> int:
            if isinstance(key, int) and 0 <= key < len(columns):
                return key
            if key in index:
                return index[key]
            raise KeyError(f"table: {what} names column {key!r}, which is not one of {columns}")

        fmt = {position(k, "formats"): v for k, v in (formats or {}).items()}
        self.mono = {position(k, "mono") for k in mono}
        self.numeric = [bool(rows) and all(_is_number(r[j]) or r[j] is None for r in rows) for j in range(len(columns))]
        self.cells = [[self._format(v, fmt.get(j), float_format) for j, v in enumerate(r)] for r in rows]

    @staticmethod
    def _format(value: object, spec: Format | None, float_format: str) -> str:
        if value is None:
            return ""
        if callable(spec):
            return str(spec(value))
        if spec is not None:
            return format(value, spec)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return f"{int(value):,}"
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return format(float(value), float_format)  # a float, never np.float64(...)
        return str(value)

    # --- the three ways to show it ---
    def _repr_html_(self) -> str:
        def cell(tag: str, text: str, j: int) -> str:
            style = _CELL + ("text-align:right;" if self.numeric[j] else "text-align:left;")
            sample = j in self.mono and tag == "td"  # model text (samples, code): shown as is, in a fixed-width font
            style += _MONO if sample else ""
            cls = ' class="rnnbook-sample"' if sample else ""
            return f'<{tag}{cls} style="{style}">{html.escape(text)}</{tag}>'

        head = "".join(cell("th", c, j) for j, c in enumerate(self.columns))
        body = "".join("<tr>" + "".join(cell("td", t, j) for j, t in enumerate(row)) + "</tr>" for row in self.cells)
        caption = (f'<caption style="caption-side:bottom;font-size:0.9em;text-align:left">'
                   f"{html.escape(self.caption)}</caption>") if self.caption else ""
        return (f'<table class="rnnbook-table" style="border-collapse:collapse;margin:0.5em 0">{caption}'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def _repr_markdown_(self) -> str:
        def escape(text: str) -> str:
            text = html.escape(text, quote=False).replace("\n", " ")
            for ch in "\\|*_`$[]":
                text = text.replace(ch, "\\" + ch)
            return text

        align = ["---:" if n else "---" for n in self.numeric]
        lines = ["| " + " | ".join(escape(c) for c in self.columns) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(escape(t) for t in row) + " |" for row in self.cells]
        if self.caption:
            lines += ["", escape(self.caption)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        rows = [self.columns] + self.cells
        widths = [max(len(r[j]) for r in rows) for j in range(len(self.columns))]
        pad = lambda t, j: t.rjust(widths[j]) if self.numeric[j] else t.ljust(widths[j])
        lines = ["  ".join(pad(t, j) for j, t in enumerate(r)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines + ([self.caption] if self.caption else []))


def table(rows: Sequence[Sequence[object]], columns: Sequence[str], formats: Mapping[str | int, Format] | None = None,
          caption: str | None = None, mono: Sequence[str | int] = (), float_format: str = ".3g") -> Table:
    """A table to ``display``: one list per row, one name per column.

    ``formats`` maps a column (name or index) to a format spec (``".3f"``, ``".1%"``, ``","``) or a function giving
    the cell's text; without one, ints print with thousands separators and floats with ``float_format``.
    ``mono`` names the columns shown in a fixed-width font (samples, code). ``None`` is an empty cell.
    """
    return Table(rows, columns, formats, caption, mono, float_format)


__all__ = ["Table", "table"]
