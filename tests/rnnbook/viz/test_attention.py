"""Tests of ``rnnbook.viz.attention``: attention maps: over images, one panel per generated word (Xu et al.'s figure),
VQA glimpses, and over words, the heat map of a seq2seq decoder's attention (Bahdanau et al.'s figure,
``plot_attention``)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnbook.data.scenes import make_scenes  # noqa: E402
from rnnbook.viz.attention import caption_attention_figure, vqa_attention_figure  # noqa: E402


def test_figures_draw():
    scenes = make_scenes(2, seed=0)
    fig = caption_attention_figure(scenes.images[0], ["a", "red", "<END>"], np.full((3, 64), 1 / 64))
    assert len([ax for ax in fig.axes if ax.images]) == 4
    fig = vqa_attention_figure(scenes.images, ["q1", "q2"], ["red", "two"], ["red", "one"], np.full((2, 2, 64), 1 / 64))
    assert len(fig.axes) == 6
    with pytest.raises(ValueError):
        caption_attention_figure(scenes.images[0], ["a", "b"], np.zeros((1, 64)))
