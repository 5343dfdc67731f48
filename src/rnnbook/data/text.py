"""Text corpora as Python strings, and the character vocabulary.

``load_text(name)`` goes through the download layer for every corpus: ``"tinyshakespeare"``, ``"stacks-latex"`` and
``"git-c"`` (C source, git's ``builtin/`` commands pinned at a tag, the same bytes on every machine).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rnnbook.data.download import fetch_dataset
from rnnbook.data.registry import DATASETS


def decode_utf8(raw: bytes, source: str) -> str:
    """Decode UTF-8 bytes; an empty input or an invalid byte gets an error naming ``source`` and the offset."""
    if not raw:
        raise ValueError(f"{source} is empty: a character model needs at least a few characters of text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{source} is not UTF-8 text: byte 0x{raw[err.start]:02x} at offset {err.start} cannot be decoded "
            f"({err.reason}). Convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`)."
        ) from None


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file with clear errors for a missing, empty or non-UTF-8 file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such text file: {path}")
    return decode_utf8(path.read_bytes(), str(path))


def load_text(name: str, progress: bool = True) -> str:
    """The whole text of a named corpus: its files in registry order, joined by the dataset's ``separator``.

    Known names: the datasets in ``rnnbook.data.registry.DATASETS``.
    """
    if name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown corpus {name!r}; known corpora: {known}")
    return DATASETS[name].separator.join(read_text(path) for path in fetch_dataset(name, progress=progress))


class Vocab:
    """The sorted set of characters of a text, with ``encode`` (str -> int array) and ``decode``.

    Sorted, not ``list(set(text))``: set order of strings changes from one Python process to the next.
    """

    def __init__(self, chars: Iterable[str]):
        self.itos: list[str] = sorted(set(chars))
        if not self.itos:
            raise ValueError("a Vocab needs at least one character; the text was empty")
        if any(len(c) != 1 for c in self.itos):
            raise ValueError("a Vocab holds single characters")
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        if not isinstance(text, str):
            raise TypeError(f"expected text as str, got {type(text).__name__}")
        return cls(text)

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} chars: {''.join(self.itos)[:40]!r}...)"

    def encode(self, text: str) -> np.ndarray:
        """Characters -> int64 indices, shape (len(text),)."""
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            pos = next(i for i, c in enumerate(text) if c not in self.stoi)
            raise ValueError(
                f"character {err.args[0]!r} at position {pos} is not in the vocabulary of {len(self)} characters; "
                "build the Vocab from a text that contains it"
            ) from None

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Indices -> string."""
        arr = np.asarray(ids)
        if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == object):
            raise TypeError(f"decode: ids must be integer indices, got dtype {arr.dtype}; round and convert them "
                            "with np.asarray(ids).astype(int) if they are whole numbers")
        out = []
        for i in arr.ravel().tolist():
            if isinstance(i, bool) or not isinstance(i, int):
                raise TypeError(f"decode: ids must be integer indices, got {i!r} ({type(i).__name__})")
            if not 0 <= i < len(self):
                raise ValueError(f"index {i} is outside the vocabulary (0..{len(self) - 1})")
            out.append(self.itos[i])
        return "".join(out)
