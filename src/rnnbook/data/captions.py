"""Real captioning data for readers with a GPU: Flickr8k / Flickr30k and COCO captions, read from disk.

Nothing here downloads. Fetch the data yourself (licences: Flickr8k/30k for research use, COCO CC-BY 4.0) and
point these functions at it; the on-disk formats are the official ones:

* Flickr8k / Flickr30k: a folder of JPEGs and a token file with one caption per line,
  ``1000268201_693b08cb0e.jpg#0<TAB>A child in a pink dress is climbing up a set of stairs .``
  (``Flickr8k.token.txt``; ``results_20130124.token`` for 30k). Read with ``torchvision.datasets.Flickr30k``,
  whose parser reads exactly this format (torchvision's ``Flickr8k`` class expects an HTML page instead).
* COCO: a folder of JPEGs and ``captions_train2017.json`` ({"images": [{"id", "file_name"}],
  "annotations": [{"image_id", "caption"}]}). ``torchvision.datasets.CocoCaptions`` needs pycocotools, so
  ``CocoCaptionsJSON`` reads the same file with the json module.

Captions become the same integer arrays as the synthetic scenes (``rnnbook.data.scenes``): ``<NULL>``=0,
``<START>``=1, ``<END>``=2, ``<UNK>``=3. Images become feature vectors once (``extract_features``, e.g. with
``rnnbook.models.captioner.ResNetEncoder(pretrained=True)``), as in CS231n's COCO assignment.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from rnnbook.data.scenes import build_word_vocab, encode_captions

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def clean_caption(caption: str) -> str:
    """Lower case, punctuation dropped, words separated by single spaces: 'A dog, running.' -> 'a dog running'."""
    return " ".join(_WORD.findall(caption.lower()))


def image_transform(image_size: int = 224) -> Callable:
    """PIL image -> float tensor (3, S, S) in [0, 1]: resize the short side to S, centre crop."""
    from torchvision import transforms

    return transforms.Compose([transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor()])


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found at {path}. Download it yourself (this module never downloads) "
                                "and pass its location; see the module docstring for the expected layout.")
    return path


def flickr_dataset(root: str | Path, ann_file: str | Path, image_size: int = 224):
    """Flickr8k or Flickr30k from a folder of JPEGs and a token file; items are (image (3, S, S), [captions])."""
    from torchvision.datasets import Flickr30k

    root, ann_file = _need(Path(root), "image folder"), _need(Path(ann_file), "caption token file")
    return Flickr30k(str(root), str(ann_file), transform=image_transform(image_size))


class CocoCaptionsJSON(torch.utils.data.Dataset):
    """COCO captions from ``captions_*.json`` without pycocotools; items are (image (3, S, S), [captions]).

    Images are sorted by id; ``captions[i]`` lists the captions of image i; ``files[i]`` is its path.
    """

    def __init__(self, root: str | Path, ann_file: str | Path, image_size: int = 224) -> None:
        root, ann_file = _need(Path(root), "image folder"), _need(Path(ann_file), "COCO captions json")
        data = json.loads(ann_file.read_text(encoding="utf-8"))
        if not {"images", "annotations"} <= set(data):
            raise ValueError(f"{ann_file}: expected COCO captions json with 'images' and 'annotations', got keys {sorted(data)}")
        by_image: dict[int, list[str]] = defaultdict(list)
        for ann in data["annotations"]:
            by_image[ann["image_id"]].append(ann["caption"])
        images = sorted((im for im in data["images"] if im["id"] in by_image), key=lambda im: im["id"])
        self.ids = [im["id"] for im in images]
        self.files = [root / im["file_name"] for im in images]
        self.captions = [by_image[i] for i in self.ids]
        self.transform = image_transform(image_size)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, list[str]]:
        from PIL import Image

        with Image.open(self.files[index]) as im:
            return self.transform(im.convert("RGB")), self.captions[index]


def dataset_captions(dataset: Any) -> list[list[str]]:
    """Every image's captions, cleaned, without loading any image (Flickr via .annotations, COCO via .captions)."""
    if isinstance(dataset, CocoCaptionsJSON):
        raw = dataset.captions
    elif hasattr(dataset, "annotations") and hasattr(dataset, "ids"):
        raw = [dataset.annotations[i] for i in dataset.ids]
    else:
        raise ValueError(f"dataset_captions: expected a Flickr dataset or CocoCaptionsJSON, got {type(dataset).__name__}")
    return [[clean_caption(c) for c in caps] for caps in raw]


def caption_vocab(captions: list[list[str]], min_count: int = 5) -> tuple[dict[str, int], list[str]]:
    """(word_to_idx, idx_to_word) of the words seen at least ``min_count`` times (CS231n kept words seen >= 5)."""
    return build_word_vocab((c for caps in captions for c in caps), min_count=min_count)


def caption_arrays(captions: list[list[str]], word_to_idx: dict[str, int], max_length: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """All (caption, image) pairs: captions (M, max_length + 2) int64 and image_idxs (M,) int64."""
    flat = [c for caps in captions for c in caps]
    idxs = np.array([i for i, caps in enumerate(captions) for _ in caps], dtype=np.int64)
    return encode_captions(flat, word_to_idx, max_length=max_length), idxs


@torch.no_grad()
def extract_features(dataset: Any, encoder: torch.nn.Module, batch_size: int = 64, device: str = "cpu",
                     num_workers: int = 0) -> torch.Tensor:
    """Run ``encoder`` over every image once: (N, D) features in dataset order (captions are ignored)."""
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                                         collate_fn=lambda items: torch.stack([im for im, _ in items]))
    encoder = encoder.to(device).eval()
    return torch.cat([encoder(batch.to(device)).cpu() for batch in loader])
