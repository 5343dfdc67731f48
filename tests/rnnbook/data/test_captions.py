"""Tests of ``rnnbook.data.captions``: real captioning data for readers with a GPU: Flickr8k / Flickr30k and COCO
captions, read from disk."""

from __future__ import annotations

import json

import pytest
import torch

from rnnbook.data import captions as cap_data
from rnnbook.models.captioner import ConvEncoder


@pytest.fixture()
def fixture_dirs(tmp_path):
    """Three tiny JPEGs, a Flickr8k token file and a COCO captions json in the official on-disk formats."""
    from PIL import Image

    img_dir = tmp_path / "Images"
    img_dir.mkdir()
    names = ["1000_aa.jpg", "1001_bb.jpg", "1002_cc.jpg"]
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    for name, c in zip(names, colors):
        Image.new("RGB", (40, 30), c).save(img_dir / name)
    texts = {names[0]: ["A red square .", "Red, red everywhere!"], names[1]: ["A dog runs on the grass ."],
             names[2]: ["The sky is blue .", "A blue picture", "blue blue"]}
    lines = [f"{n}#{k}\t{c}" for n, caps in texts.items() for k, c in enumerate(caps)]
    (tmp_path / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")
    coco = {"images": [{"id": 7 + i, "file_name": n, "height": 30, "width": 40} for i, n in enumerate(names)],
            "annotations": [{"id": 100 + j, "image_id": 7 + i, "caption": c}
                            for j, (i, c) in enumerate((i, c) for i, n in enumerate(names) for c in texts[n])]}
    (tmp_path / "captions_val2017.json").write_text(json.dumps(coco))
    return tmp_path, img_dir, texts


@pytest.mark.parametrize("kind", ["flickr", "coco"])
def test_real_caption_loaders_offline(fixture_dirs, kind):
    root, img_dir, texts = fixture_dirs
    if kind == "flickr":
        ds = cap_data.flickr_dataset(img_dir, root / "Flickr8k.token.txt", image_size=16)
    else:
        ds = cap_data.CocoCaptionsJSON(img_dir, root / "captions_val2017.json", image_size=16)
    assert len(ds) == 3
    img, caps = ds[0]
    assert img.shape == (3, 16, 16) and caps == texts["1000_aa.jpg"]
    torch.testing.assert_close(img[:, 8, 8], torch.tensor([1.0, 0.0, 0.0]), atol=0.02, rtol=0)
    cleaned = cap_data.dataset_captions(ds)
    assert cleaned[0] == ["a red square", "red red everywhere"] and cleaned[2][0] == "the sky is blue"
    w2i, i2w = cap_data.caption_vocab(cleaned, min_count=2)
    assert i2w[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"] and set(i2w[4:]) == {"blue", "red", "a", "the"}
    arr, idx = cap_data.caption_arrays(cleaned, w2i, max_length=4)
    assert arr.shape == (6, 6) and idx.tolist() == [0, 0, 1, 2, 2, 2]
    assert arr[2].tolist() == [1, w2i["a"], 3, 3, 3, 2]  # 'a dog runs on' cut at 4 words, unknown words -> <UNK>
    feats = cap_data.extract_features(ds, ConvEncoder(image_size=16, feature_dim=5, channels=(4,)), batch_size=2)
    assert feats.shape == (3, 5)


def test_real_caption_loaders_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        cap_data.flickr_dataset(tmp_path / "nope", tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="COCO"):
        cap_data.CocoCaptionsJSON(tmp_path, tmp_path / "captions.json")
