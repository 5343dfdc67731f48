"""Data: text corpora through the download layer, the character ``Vocab``, TBPTT streams, synthetic tasks."""

from rnnbook.data.download import ChecksumError, cache_dir, fetch, fetch_dataset, get_dataset, mirror_dir, sha256_of
from rnnbook.data.registry import DATASETS, Dataset, RemoteFile
from rnnbook.data.sequences import IGNORE, adding_problem, delayed_recall
from rnnbook.data.streams import batchify, tbptt_batches, train_val_split
from rnnbook.data.text import Vocab, decode_utf8, load_text, read_text

__all__ = [
    "DATASETS", "ChecksumError", "Dataset", "RemoteFile", "Vocab", "IGNORE", "adding_problem", "batchify", "delayed_recall", "cache_dir",
    "decode_utf8", "fetch", "fetch_dataset", "get_dataset", "load_text", "mirror_dir", "read_text", "sha256_of",
    "tbptt_batches", "train_val_split",
]
