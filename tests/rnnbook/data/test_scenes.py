"""Synthetic scenes: shapes of every array, determinism, pixels that match the objects, captions that match the
geometry, and the CS231n-style vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.data import scenes as sc


@pytest.fixture(scope="module")
def batch() -> sc.Scenes:
    return sc.make_scenes(300, seed=3, size=64, max_objects=3)


def test_shapes_and_dtypes(batch):
    N, K, S = 300, 3, 64
    assert batch.images.shape == (N, 3, S, S) and batch.images.dtype == np.float32
    assert batch.masks.shape == (N, K, S, S) and batch.masks.dtype == bool
    assert batch.valid.shape == (N, K) and batch.n_objects.shape == (N,)
    assert batch.centers.shape == (N, K, 2) and batch.cells.shape == (N, K, 2)
    assert 0.0 <= batch.images.min() and batch.images.max() <= 1.0
    np.testing.assert_array_equal(batch.valid.sum(1), batch.n_objects)
    assert set(batch.n_objects.tolist()) == {1, 2, 3}
    assert len(batch.objects) == len(batch.captions) == N
    assert [len(o) for o in batch.objects] == batch.n_objects.tolist()
    # padded slots: empty masks and -1 ids
    assert not batch.masks[~batch.valid].any()
    assert (batch.shape_ids[~batch.valid] == -1).all() and (batch.shape_ids[batch.valid] >= 0).all()
    # every real object is visible
    assert (batch.masks[batch.valid].sum(axis=(1, 2)) > 10).all()


def test_deterministic_by_seed():
    a, b, c = sc.make_scenes(50, seed=1), sc.make_scenes(50, seed=1), sc.make_scenes(50, seed=2)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.captions == b.captions
    assert not np.array_equal(a.images, c.images)


def test_pixels_match_objects(batch):
    bg = np.array(sc.BACKGROUND, dtype=np.float32)
    assert not (batch.masks.sum(1) > 1).any(), "objects overlap"
    covered = batch.masks.any(1)  # (N, S, S)
    img = batch.images.transpose(0, 2, 3, 1)  # (N, S, S, 3)
    np.testing.assert_allclose(img[~covered], np.broadcast_to(bg, img[~covered].shape))
    for i in range(20):
        for k, o in enumerate(batch.objects[i]):
            np.testing.assert_allclose(img[i][batch.masks[i, k]], np.broadcast_to(sc.RGB[o.color], (batch.masks[i, k].sum(), 3)),
                                       rtol=1e-6)
            ys, xs = np.nonzero(batch.masks[i, k])
            assert abs(xs.mean() + 0.5 - o.x) < 0.25 * o.r + 0.5  # mask sits at the object's centre
            x0, y0, x1, y1 = o.bbox
            assert xs.min() + 0.5 >= x0 - 0.15 * o.r - 1 and xs.max() + 0.5 <= x1 + 0.15 * o.r + 1
            assert ys.min() + 0.5 >= y0 - 0.15 * o.r - 1 and ys.max() + 0.5 <= y1 + 0.15 * o.r + 1


def test_shapes_look_different(batch):
    """Area ratios to the circle, and the triangle's mass sits below its centre (apex up)."""
    area = {}
    for i, objs in enumerate(batch.objects):
        for k, o in enumerate(objs):
            m = batch.masks[i, k]
            area.setdefault((o.shape, o.size), []).append(m.sum() / o.r ** 2)
            if o.shape == "triangle":
                ys, _ = np.nonzero(m)
                assert ys.mean() + 0.5 > o.y + 0.15 * o.r
    mean = {k: np.mean(v) for k, v in area.items()}
    for size in sc.SIZES:
        assert mean[("circle", size)] == pytest.approx(np.pi, rel=0.15)
        assert mean[("square", size)] == pytest.approx(4 * 0.85 ** 2, rel=0.2)
        assert mean[("diamond", size)] == pytest.approx(2 * 1.1 ** 2, rel=0.2)
        assert mean[("triangle", size)] == pytest.approx(2.0, rel=0.2)
    # sizes: a large object covers far more pixels than a small one
    px = {z: np.mean([batch.masks[i, k].sum() for i, objs in enumerate(batch.objects) for k, o in enumerate(objs)
                      if o.size == z]) for z in sc.SIZES}
    assert px["large"] > 2.5 * px["small"]


def test_captions_match_geometry(batch):
    """Parse the chain phrasing back into objects and relations and check them against the pixels' positions."""
    rel_words = {"left of": (0, -1), "right of": (0, 1), "above": (1, -1), "below": (1, 1)}
    for i, (objs, caps) in enumerate(zip(batch.objects, batch.captions)):
        assert len(caps) == (2 if len(objs) == 1 else 3)
        for cap in caps[:-1] if len(objs) > 1 else caps[:1]:
            words = cap.replace("left of", "left_of").replace("right of", "right_of").split()
            described, rels = [], []
            j = 0
            while j < len(words):
                assert words[j] == "a", cap
                described.append(tuple(words[j + 1:j + 4]))
                j += 4
                if j < len(words):
                    rels.append(words[j].replace("_", " "))
                    j += 1
            assert sorted(described) == sorted((o.size, o.color, o.shape) for o in objs), cap
            # locate each described object by its attributes (unique in most scenes) and check each relation
            for a, rel, b in zip(described, rels, described[1:]):
                oa = [o for o in objs if (o.size, o.color, o.shape) == a]
                ob = [o for o in objs if (o.size, o.color, o.shape) == b]
                if len(oa) != 1 or len(ob) != 1:
                    continue
                axis, sign = rel_words[rel]
                pa = (oa[0].x, oa[0].y)[axis]
                pb = (ob[0].x, ob[0].y)[axis]
                assert np.sign(pa - pb) == sign, (cap, oa, ob)
        listing = caps[-1]
        assert listing.startswith("there is one shape" if len(objs) == 1 else f"there are {sc.NUMBER_WORDS[len(objs)]} shapes")
        assert len(listing.split()) <= sc.max_caption_length(3)


def test_canonical_order(batch):
    for objs in batch.objects:
        keys = [(o.col, o.row) for o in objs]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_splits():
    s = sc.make_scenes(100, seed=0)
    parts = sc.split_scenes(s, (0.8, 0.1, 0.1))
    assert [len(parts[k]) for k in ("train", "val", "test")] == [80, 10, 10]
    np.testing.assert_array_equal(parts["test"].images, s.images[90:])
    parts2 = sc.make_splits(30, 5, 7, seed=4)
    assert [len(parts2[k]) for k in ("train", "val", "test")] == [30, 5, 7]
    np.testing.assert_array_equal(parts2["val"].images, sc.make_scenes(42, seed=4).images[30:35])
    with pytest.raises(ValueError, match="fractions"):
        sc.split_scenes(s, (0.5, 0.1, 0.1))
    with pytest.raises(ValueError, match="max_objects"):
        sc.make_scenes(10, max_objects=0)


def test_vocab_encode_decode(batch):
    w2i, i2w = sc.scene_vocab()
    assert i2w[:4] == ["<NULL>", "<START>", "<END>", "<UNK>"] and w2i["<NULL>"] == 0
    assert all(w2i[w] == i for i, w in enumerate(i2w))
    sentences = [c for caps in batch.captions for c in caps]
    assert {w for s in sentences for w in s.split()} <= set(w2i)
    enc = sc.encode_captions(sentences, w2i)
    assert enc.dtype == np.int64 and (enc[:, 0] == 1).all()
    assert enc.shape[1] == max(len(s.split()) for s in sentences) + 2
    assert (enc == 2).sum(1).tolist() == [1] * len(sentences)
    assert sc.decode_captions(enc, i2w) == sentences
    assert sc.decode_captions(enc[0], i2w) == sentences[0]
    # unknown words, truncation, data-built vocabulary
    w2i_b, i2w_b = sc.build_word_vocab(["b a a", "c a"], min_count=2)
    assert i2w_b == ["<NULL>", "<START>", "<END>", "<UNK>", "a"]
    np.testing.assert_array_equal(sc.encode_captions(["a b c a"], w2i_b, max_length=3), [[1, 4, 3, 3, 2]])
    caps, idx = sc.caption_pairs(batch, w2i)
    assert len(caps) == len(idx) == len(sentences)
    assert sc.decode_captions(caps[idx == 5], i2w) == batch.captions[5]


def test_parse_and_diagnose_caption():
    objs = [sc.Obj("circle", "red", "small", 10, 10, 4, 0, 0), sc.Obj("square", "blue", "large", 50, 12, 8, 0, 2)]
    caps = sc._captions(objs)
    for c in caps:
        said, _ = sc.parse_caption(c)
        assert sorted(said) == [("large", "blue", "square"), ("small", "red", "circle")]
    assert sc.parse_caption(caps[0])[1] == ["left of"]
    assert "right" in sc.diagnose_caption(caps[0], objs)  # correct captions: nothing wrong
    assert "colour green instead of red" in sc.diagnose_caption("a small green circle left of a large blue square", objs)
    assert "mentions 1 object(s)" in sc.diagnose_caption("a small red circle", objs)
    assert "is false" in sc.diagnose_caption("a large blue square left of a small red circle", objs)
