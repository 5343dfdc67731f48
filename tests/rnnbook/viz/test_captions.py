"""Tests of ``rnnbook.viz.captions``: images with their captions: a grid (generated caption above, a reference below),
the failure cases (the captions with the lowest BLEU), and a one-image panel for an interactive slider. Viz never
trains."""

from __future__ import annotations

import numpy as np


def test_viz_grids(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from rnnbook.data import scenes as sc
    from rnnbook.viz.captions import caption_grid, caption_panel, failure_grid

    s = sc.make_scenes(6, seed=0, size=32)
    hyps = [c[0] for c in s.captions]
    hyps[2] = "a wrong caption"
    fig = caption_grid(s.images, hyps, s.captions, ncols=3)
    assert len([a for a in fig.axes if a.images]) == 6
    from rnnbook.viz.style import BAD, GOOD

    # wrong: vermillion and a cross; right: blue and a tick (never red against green, never colour alone)
    assert fig.axes[2].title.get_color() == BAD and fig.axes[2].title.get_text().endswith("✗")
    assert fig.axes[0].title.get_color() == GOOD and fig.axes[0].title.get_text().endswith("✓")
    fig2, worst = failure_grid(s.images, hyps, s.captions, np.array([1, 1, 0.1, 1, 0.5, 1.0]), k=2)
    assert worst.tolist() == [2, 4]
    caption_panel(s.images[0], {"greedy": hyps[0]}, s.captions[0]).savefig(tmp_path / "p.png")
