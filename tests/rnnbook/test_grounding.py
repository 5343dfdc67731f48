"""Tests of ``rnnbook.grounding``: where did the model look? Object masks on the attention grid, per-cell labels, and
grounding scores."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnbook.data.scenes import COLORS, SHAPES, Obj, make_scenes  # noqa: E402
from rnnbook.grounding import (  # noqa: E402
    cell_labels,
    grid_coverage,
    grounding_scores,
    referred_objects,
)


def test_grid_coverage_and_cell_labels():
    masks = np.zeros((1, 2, 16, 16), dtype=bool)
    masks[0, 0, :8, :8] = True          # fills cell (0, 0) of a 2x2 grid
    masks[0, 1, 8:12, 8:16] = True      # half of cell (1, 1)
    cov = grid_coverage(masks, (2, 2))
    np.testing.assert_allclose(cov, [[[1, 0, 0, 0], [0, 0, 0, 0.5]]])
    with pytest.raises(ValueError):
        grid_coverage(masks, (3, 3))
    scenes = make_scenes(5, seed=1)
    lab = cell_labels(scenes)
    cov = grid_coverage(scenes.masks, (8, 8))
    for n in range(5):
        for i in range(64):
            k = int(cov[n, :, i].argmax())
            want = scenes.color_ids[n, k] + 1 if cov[n, k, i] >= 0.25 else 0
            assert lab["color"][n, i] == want


def test_referred_objects():
    objs = [Obj("circle", "red", "small", 10, 10, 5, 0, 0), Obj("square", "red", "large", 40, 10, 9, 0, 1),
            Obj("circle", "blue", "small", 40, 40, 5, 1, 1)]
    words = "a small red circle left of a large red square and a small green circle".split()
    # "small red circle" -> 0; "large red square" -> 1; "small green circle" names no object
    assert referred_objects(words, objs) == [(2, 0), (3, 0), (8, 1), (9, 1)]
    assert referred_objects("a small circle".split(), objs) == []   # two small circles: ambiguous


def test_grounding_scores_oracle_and_uniform():
    scenes = make_scenes(6, seed=2)
    words = ["<NULL>", "<START>", "<END>", "a", "small", "large", *COLORS, *SHAPES]
    w2i = {w: i for i, w in enumerate(words)}
    inside = grid_coverage(scenes.masks, (8, 8)) > 0
    T = 4 * 3 + 1
    tokens = np.zeros((6, T), dtype=np.int64)
    oracle = np.full((6, T, 64), 1 / 64)
    for n, objs in enumerate(scenes.objects):
        seq = [w2i[w] for o in objs for w in ("a", o.size, o.color, o.shape)] + [w2i["<END>"]]
        tokens[n, :len(seq)] = seq
        for k in range(len(objs)):
            for t in (4 * k + 2, 4 * k + 3):
                oracle[n, t] = inside[n, k] / inside[n, k].sum()
    g = grounding_scores(tokens, oracle, scenes, words)
    assert g.n_words + g.skipped == 2 * int(scenes.n_objects.sum()) and g.n_words > 0 and g.peak == 1.0
    assert np.isclose(g.mass, 1.0)
    u = grounding_scores(tokens, np.full((6, T, 64), 1 / 64), scenes, words)
    assert np.isclose(u.mass, u.uniform_mass) and u.uniform_mass < 0.3
    with pytest.raises(ValueError):
        grounding_scores(tokens[:, :3], oracle, scenes, words)
