"""Interpretable cells (Karpathy, Johnson & Fei-Fei 2016): record an LSTM's activations, define features of the
text by code, and rank the cells that follow them.

Recording. A ``CharLM`` with ``cell="lstm"`` keeps its weights in ``torch.nn.LSTM``, which returns only the top
layer's h_t. ``record_lstm`` runs the same weights as ``rnnbook.cells.LSTMCell``s (``CharLM.as_cells``: the
equations written out, ``rnnbook.cells.lstm_update``) one step at a time, keeping for every layer l and step t

    [i | f | o | g] = [sigmoid | sigmoid | sigmoid | tanh](x_t Wx + h_{t-1} Wh + b)      each (T, H)
    c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)                                      each (T, H)

Features. Functions of the text alone, one value per character, read as "the state after reading character t":
``position_in_line`` (continuous), ``c_features`` (a small C lexer: inside a string or character literal, inside a
comment, brace and parenthesis depth, inside the condition of an ``if``).

Ranking. A continuous feature ranks the units by |Pearson r|; a binary one by the area under the ROC curve of the
unit's activation as a detector of the feature, oriented (max(AUC, 1 - AUC): a unit that is low inside comments
detects them as well as one that is high). ``gate_saturation`` gives the paper's gate statistics: the fraction of
steps a gate is left-saturated (< 0.1) or right-saturated (> 0.9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rnnbook.metrics import auc, column_ranks
from rnnbook.models.charlm import CharLM

KINDS = ("c", "h", "i", "f", "o", "g")  # what a recording keeps per layer
GATES = ("i", "f", "o")
LEFT, RIGHT = 0.1, 0.9  # the paper's saturation thresholds


@dataclass
class Recording:
    """Activations of every layer over a text: ``acts[l][kind]`` of shape (T, H), kind in ``KINDS``.

    ``text`` is the text read (T characters); ``logits`` (T, V) the model's outputs along the way.
    """

    text: str
    acts: list[dict[str, np.ndarray]]
    logits: np.ndarray = field(repr=False)

    @property
    def layers(self) -> int:
        return len(self.acts)

    @property
    def hidden(self) -> int:
        return self.acts[0]["c"].shape[1]

    def get(self, kind: str, layer: int) -> np.ndarray:
        """(T, H) activations of one kind in one layer."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if not 0 <= layer < self.layers:
            raise ValueError(f"layer must be in 0..{self.layers - 1}, got {layer}")
        return self.acts[layer][kind]

    def units(self, kinds: tuple[str, ...] = ("c", "h")) -> tuple[np.ndarray, list[tuple[str, int, int]]]:
        """All units of the given kinds side by side: (T, U) and a name (kind, layer, unit) per column."""
        cols, names = [], []
        for kind in kinds:
            for l in range(self.layers):
                cols.append(self.get(kind, l))
                names += [(kind, l, u) for u in range(self.hidden)]
        return np.concatenate(cols, axis=1), names


@torch.no_grad()
def record_lstm(model: CharLM, ids: np.ndarray, text: str | None = None, rows: int = 1, warmup: int = 0
                ) -> Recording:
    """Run a ``CharLM`` (cell ``"lstm"``) over the 1-D ``ids`` and record c, h and the gates i, f, o, g of every
    layer at every step: ``Recording.acts[l][kind]`` (T, H), for the steps ``warmup .. warmup + T``.

    To take fewer Python steps, the stretch after the first ``warmup`` ids is cut into ``rows`` equal pieces
    (T = rows * P, the tail that does not fill a piece is dropped), run side by side as a batch. Each piece starts
    from the zero state ``warmup`` ids before its first recorded step, so every recorded step has read at least
    ``warmup`` characters of context. ``rows=1, warmup=0`` is one plain run from the zero state over all ``ids``.
    ``text`` (the characters of ``ids``) is kept, cut to the recorded steps, for display.
    """
    ids = np.asarray(ids)
    if rows < 1 or warmup < 0:
        raise ValueError(f"need rows >= 1 and warmup >= 0, got rows={rows}, warmup={warmup}")
    if ids.ndim != 1 or len(ids) < warmup + rows:
        raise ValueError(f"ids must be a 1-D array of at least warmup + rows = {warmup + rows} ids, got shape "
                         f"{ids.shape}")
    if text is not None and len(text) != len(ids):
        raise ValueError(f"text has {len(text)} characters but ids has {len(ids)}; pass the text the ids encode")
    P = (len(ids) - warmup) // rows
    windows = np.stack([ids[r * P: warmup + (r + 1) * P] for r in range(rows)])  # (rows, warmup + P)
    if not isinstance(model, CharLM) or model.cell != "lstm":
        got = f"a CharLM with cell={model.cell!r}" if isinstance(model, CharLM) else f"a {type(model).__name__}"
        raise ValueError(f"record_lstm needs a CharLM with cell='lstm', got {got}")
    was_training = model.training
    model.eval()
    runner = model.as_cells()  # the same weights in LSTMCells: the equations written out
    device = next(model.parameters()).device
    x = model.embed_ids(torch.as_tensor(windows, dtype=torch.long, device=device))  # (rows, warmup + P, E)
    acts = []
    for cell in runner.cells:
        H = cell.hidden_size
        state = cell.init_state(rows, x)
        rec: dict[str, list[torch.Tensor]] = {k: [] for k in KINDS}
        for xw_t in cell.input_part(x).unbind(1):  # x Wx + b for every step, then the recurrence step by step
            h, state, gates = cell.step_with_gates(xw_t, state)
            for k, v in zip(KINDS, (state[1], h, gates.i, gates.f, gates.o, gates.g)):
                rec[k].append(v)
        layer = {k: torch.stack(v, dim=1) for k, v in rec.items()}  # (rows, warmup + P, H)
        x = layer["h"]  # the next layer reads this layer's h_t
        acts.append({k: v[:, warmup:].reshape(rows * P, H).cpu().numpy() for k, v in layer.items()})
    logits = model.readout(x[:, warmup:]).reshape(rows * P, -1).cpu().numpy()
    model.train(was_training)
    return Recording(text[warmup:warmup + rows * P] if text is not None else "", acts, logits)


# --- features of the text --------------------------------------------------------------------------------------------

def position_in_line(text: str) -> np.ndarray:
    """The column of every character: 0 for the first character of a line, counting up to the newline (which gets
    the length of its line). Shape (T,), int."""
    out = np.empty(len(text), dtype=np.int64)
    col = 0
    for t, ch in enumerate(text):
        out[t] = col
        col = 0 if ch == "\n" else col + 1
    return out


_IDENT = re.compile(r"[A-Za-z0-9_]")


def _after_if(text: str, t: int) -> bool:
    """Is the '(' at ``t`` the opening of an if-condition: the keyword ``if``, then only spaces, before it?"""
    j = t - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    return j >= 1 and text[j - 1:j + 1] == "if" and (j < 2 or not _IDENT.match(text[j - 2]))


def c_features(text: str) -> dict[str, np.ndarray]:
    """Features of C source, one value per character, each the state *after* reading that character:

    - ``string``: inside a string "..." or character literal '...': True from the opening quote up to, not
      including, the closing quote (backslash escapes do not close it);
    - ``comment``: inside a /* block */ or // line comment: True from the character that opens it ('*' of "/*",
      second '/' of "//") up to, not including, the one that closes it ('/' of "*/", the newline);
    - ``brace_depth``, ``paren_depth``: open '{' minus closed '}' (and '(' minus ')') so far, in code only;
    - ``if_condition``: inside the parenthesised condition of an ``if``: True from its '(' up to, not including, the
      matching ')'.

    A small lexer, not a C parser: it knows strings, comments and brackets, and nothing about the preprocessor.
    """
    T = len(text)
    string = np.zeros(T, dtype=bool)
    comment = np.zeros(T, dtype=bool)
    brace = np.zeros(T, dtype=np.int64)
    paren = np.zeros(T, dtype=np.int64)
    cond = np.zeros(T, dtype=bool)
    mode = "code"  # code | string | char | block | line
    escaped = False
    braces = parens = 0
    if_stack: list[int] = []  # paren depths at which an if-condition was opened
    opened = -1  # index of the '*' that opened the current block comment ("/*/" does not close it)
    t = 0
    while t < T:
        ch = text[t]
        if mode == "code":
            if ch == "/" and t + 1 < T and text[t + 1] in "*/":
                # the '/' itself still belongs to code; the comment starts with the next character
                mode = "block" if text[t + 1] == "*" else "line"
                opened = t + 1
                brace[t], paren[t], cond[t] = braces, parens, bool(if_stack)
                t += 1
                comment[t] = True
                brace[t], paren[t], cond[t] = braces, parens, bool(if_stack)
                t += 1
                continue
            if ch == '"' or ch == "'":
                mode, escaped = ("string" if ch == '"' else "char"), False
                string[t] = True
            elif ch == "{":
                braces += 1
            elif ch == "}":
                braces = max(0, braces - 1)
            elif ch == "(":
                parens += 1
                if _after_if(text, t):
                    if_stack.append(parens)
            elif ch == ")":
                if if_stack and if_stack[-1] == parens:
                    if_stack.pop()
                parens = max(0, parens - 1)
        elif mode in ("string", "char"):
            close = '"' if mode == "string" else "'"
            if escaped:
                escaped = False
                string[t] = True
            elif ch == "\\":
                escaped = True
                string[t] = True
            elif ch == close:
                mode = "code"
            elif ch == "\n":  # an unterminated literal ends at the line's end (as a C compiler would complain)
                mode = "code"
            else:
                string[t] = True
        elif mode == "block":
            if ch == "/" and text[t - 1] == "*" and t - 1 > opened:
                mode = "code"
            else:
                comment[t] = True
        elif mode == "line":
            if ch == "\n":
                mode = "code"
            else:
                comment[t] = True
        brace[t], paren[t], cond[t] = braces, parens, bool(if_stack)
        t += 1
    return {"string": string, "comment": comment, "brace_depth": brace, "paren_depth": paren, "if_condition": cond}


# --- ranking -------------------------------------------------------------------------------------------------------

def pearson(acts: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``acts`` (T, U) with ``feature`` (T,): (U,). A constant column gets 0."""
    acts = np.asarray(acts, dtype=np.float64)
    feature = np.asarray(feature, dtype=np.float64)
    if acts.ndim != 2 or feature.shape != (acts.shape[0],):
        raise ValueError(f"expected acts (T, U) and feature (T,), got {acts.shape} and {feature.shape}")
    a = acts - acts.mean(0)
    f = feature - feature.mean()
    denom = np.sqrt((a * a).sum(0) * (f * f).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * f[:, None]).sum(0) / denom
    return np.where(denom > 0, r, 0.0)


@dataclass(frozen=True)
class Ranked:
    """Units ranked for one feature: ``names[k]`` = (kind, layer, unit) and ``scores[k]`` (best first).

    ``scores`` are |r| (continuous) or oriented AUC = max(AUC, 1 - AUC) (binary); ``signed`` keeps r or AUC."""

    feature: str
    metric: str
    names: list[tuple[str, int, int]]
    scores: np.ndarray
    signed: np.ndarray

    @property
    def best(self) -> float:
        return float(self.scores[0])

    def label(self, k: int = 0) -> str:
        """The k-th unit's score as a reader reads it: ``r = -0.78``, or ``AUC = 0.07 (lower inside)``."""
        value = float(self.signed[k])
        if self.metric == "AUC":
            return f"AUC = {value:.2f}" + (" (lower inside)" if value < 0.5 else "")
        return f"{self.metric} = {value:+.2f}"

    def __str__(self) -> str:
        kind, l, u = self.names[0]
        return f"{self.feature}: best {kind}[layer {l + 1}, unit {u}], {self.label()}"


def is_binary(feature: np.ndarray) -> bool:
    """A feature with values in {0, 1} (or bool) is ranked by AUC, any other by correlation."""
    feature = np.asarray(feature)
    return feature.dtype == bool or set(np.unique(feature).tolist()) <= {0, 1}


def rank_units(rec: Recording, feature: np.ndarray, name: str = "feature", kinds: tuple[str, ...] = ("c", "h"),
               ranks: np.ndarray | None = None) -> Ranked:
    """Rank the units of ``kinds`` for one feature (T,): by |Pearson r| if it has more than two values, else by
    oriented AUC. ``ranks``: the column-wise ranks of ``rec.units(kinds)[0]``, when already computed."""
    feature = np.asarray(feature)
    if len(feature) != len(rec.acts[0]["c"]):
        raise ValueError(f"the feature {name!r} has {len(feature)} values but the recording "
                         f"{len(rec.acts[0]['c'])} steps; cut it to the recorded steps")
    acts, names = rec.units(kinds)
    if is_binary(feature):
        signed = auc(acts, feature.astype(bool), ranks)
        scores, metric = np.maximum(signed, 1 - signed), "AUC"
    else:
        signed = pearson(acts, feature)
        scores, metric = np.abs(signed), "r"
    order = np.argsort(-scores, kind="stable")
    return Ranked(name, metric, [names[k] for k in order], scores[order], signed[order])


def rank_features(rec: Recording, features: dict[str, np.ndarray], kinds: tuple[str, ...] = ("c", "h")
                  ) -> dict[str, Ranked]:
    """``rank_units`` for every feature, ranking the activations only once for all the binary ones."""
    ranks = column_ranks(rec.units(kinds)[0]) if any(is_binary(f) for f in features.values()) else None
    return {name: rank_units(rec, f, name, kinds, ranks) for name, f in features.items()}


def gate_saturation(rec: Recording, left: float = LEFT, right: float = RIGHT
                    ) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    """The paper's gate statistics: for every layer l and gate in (i, f, o), the fraction of steps each unit spends
    left-saturated (< ``left``) and right-saturated (> ``right``): {(l, gate): (left (H,), right (H,))}."""
    if not 0.0 < left < right < 1.0:
        raise ValueError(f"need 0 < left < right < 1, got left={left}, right={right}")
    out = {}
    for l in range(rec.layers):
        for gate in GATES:
            v = rec.get(gate, l)
            out[(l, gate)] = ((v < left).mean(0), (v > right).mean(0))
    return out


def saturation_table(sat: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]], caption: str | None = None):
    """The table (``rnnbook.viz.table``): per layer and gate, the mean left/right-saturated fraction and the units
    saturated more than half the time."""
    from rnnbook.viz.table import table

    rows = [[l + 1, gate, lo.mean(), hi.mean(), f"{int((hi > 0.5).sum())} / {len(hi)}",
             f"{int((lo > 0.5).sum())} / {len(lo)}"] for (l, gate), (lo, hi) in sat.items()]
    columns = ["layer", "gate", "mean left-saturated", "mean right-saturated",
               "units right-saturated > 50 % of steps", "units left-saturated > 50 % of steps"]
    return table(rows, columns, formats={2: ".3f", 3: ".3f"}, caption=caption)
