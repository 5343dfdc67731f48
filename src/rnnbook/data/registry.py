"""The datasets the book downloads: name -> files, each with its URL, sha256, size and licence.

The same table is in ``data/README.md`` (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: where it comes from and how to recognise it."""

    path: str  # relative path, in the mirror and in the cache
    url: str
    sha256: str
    size: int  # bytes


@dataclass(frozen=True)
class Dataset:
    name: str
    files: tuple[RemoteFile, ...]
    licence: str
    description: str


_STACKS = "https://raw.githubusercontent.com/stacks/stacks-project/4ac4815d5a00dc2eacab7824cf4e4baafe2773ac"

DATASETS: dict[str, Dataset] = {
    "tinyshakespeare": Dataset(
        name="tinyshakespeare",
        files=(
            RemoteFile(
                "tinyshakespeare.txt",
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                1_115_394,
            ),
        ),
        licence="public domain text",
        description="40,000 lines of Shakespeare, as used by Karpathy's char-rnn",
    ),
    "stacks-latex": Dataset(
        name="stacks-latex",
        files=tuple(
            RemoteFile(f"stacks-project/{stem}.tex", f"{_STACKS}/{stem}.tex", sha, size)
            for stem, sha, size in (
                ("schemes", "08475a01cf0ddf69734fd7ebc0d14d3831148c25a2ef82aaafdb65666f8fce47", 174_402),
                ("sheaves", "ac4f9edc7db85e66329806ec9ea42816187a469772844baea663e1c9a9f00b38", 184_841),
                ("topology", "44548f530113104b4e64385090ee1ac7be2d64e5841d749ab986e04efaaf5981", 236_912),
            )
        ),
        licence="GNU FDL 1.2",
        description="three chapters of the Stacks Project's LaTeX source (algebraic geometry)",
    ),
}
