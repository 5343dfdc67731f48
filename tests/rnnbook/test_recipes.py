"""Every chapter's full recipe, built and stepped on CPU: the full-size models train a few updates, evaluate and
sample, so a path only the full scale takes cannot break unseen between full-scale runs (``make full``).

Batches are cut to a few rows (the models, sequence lengths and vocabularies are the full ones); the whole file
takes well under a minute on one core.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnbook.data import Vocab, load_text, tbptt_batches, train_val_split
from rnnbook.recipes import RECIPES, recipe
from rnnbook.tbptt import evaluate, evaluate_text, text_stream, train_lm, update_cost

BOOK = Path(__file__).resolve().parents[2] / "book"


FEW = 2  # updates per model


@pytest.fixture(scope="module")
def shakespeare():
    text = load_text("tinyshakespeare")
    vocab = Vocab.from_text(text)
    train, val = train_val_split(vocab.encode(text), 0.9)
    return vocab, train, val


def finite(history) -> bool:
    return len(history.loss) == FEW and all(np.isfinite(history.loss))


# --- the table itself ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", sorted(RECIPES))
def test_both_scales_have_the_fields_of_the_chapter_recipe(chapter):
    kind = RECIPES[chapter][0]
    assert kind.__doc__ and len(kind.__doc__) > 40, f"chapter {chapter}: say what the recipe is for"
    fields = set(typing.get_type_hints(kind))
    for scale in ("ci", "full"):
        assert set(recipe(chapter, scale)) == fields, (chapter, scale)


def test_recipe_returns_a_copy_and_names_bad_arguments():
    R = recipe("07", "full")
    R["steps"]["adding"] = 1
    assert recipe("07", "full")["steps"]["adding"] == 1500
    with pytest.raises(ValueError, match="chapter must be one of"):
        recipe("4", "full")
    with pytest.raises(ValueError, match="scale must be one of"):
        recipe("04", "gpu")


@pytest.mark.parametrize("chapter", sorted(RECIPES))
def test_the_chapter_reads_its_recipe_from_the_table(chapter):
    """No chapter keeps a second copy of its sizes: it reads them with ``recipe("NN", SCALE)``."""
    (path,) = BOOK.glob(f"{chapter}_*.ipynb")
    source = path.read_text()
    assert f'rnnbook.recipes.recipe(\\"{chapter}\\", SCALE)' in source, path.name
    assert not re.search(r'\\"full\\":\s*dict\(', source), f"{path.name} still has its own full recipe"


# --- every chapter's full-size models, a few updates, an evaluation, a sample -------------------------------------

def test_02_min_char_rnn_full_loops():
    from rnnbook.minchar import MinCharRNN
    from rnnbook.minchar_batched import BatchedMinCharRNN, loss_per_char

    R = recipe("02", "full")
    assert R["n_iters"] % 100 == 0 and R["n_iters"] > 700  # the chapter shows the samples of 100, 300, 700, n - 100
    text = load_text("tinyshakespeare")[:20_000]
    model = MinCharRNN(text)
    for _ in range(FEW):
        model.step(sample_every=1, sample_length=20)
    twin = BatchedMinCharRNN(text, batch_size=4, seed=0).train(FEW)
    assert np.isfinite(loss_per_char(twin.params, twin.encode(text[:2000])))
    assert len(twin.sample_text(30)) == 30


def test_03_tbptt_full_cost_and_recall(shakespeare):
    from rnnbook.data.sequences import recall_chunks
    from rnnbook.models.charlm import CharLM

    vocab, train, _ = shakespeare
    R = recipe("03", "full")
    longest = max(R["cost_ks"])
    torch.manual_seed(0)
    rows = torch.as_tensor(train[: 16 * (longest + 1)].reshape(16, longest + 1))  # the chapter's 16 rows
    cost = update_cost(CharLM(len(vocab), hidden=128), rows[:, :longest], rows[:, 1:], repeats=1)
    # full BPTT over the longest chunk keeps this much for backward: far below a Colab runtime's 12 GB of RAM
    assert 0 < cost.saved_bytes < 1 * 2**30, cost

    k, d = max(R["recall_ks"]), max(R["delays"])
    model = CharLM(2, hidden=64, cell="lstm", embed_dim=4)
    data = np.random.default_rng(0)
    hist = train_lm(model, lambda: recall_chunks(data, 4, 32 * k, d, k), FEW, lr=1e-2, progress=False)  # as chapter 3
    assert finite(hist)
    test = recall_chunks(np.random.default_rng(1), 4, 300, d, seq_len=300)
    assert 0.0 <= evaluate(model, test).accuracy <= 1.0


def test_04_char_rnn_full_model(shakespeare):
    from rnnbook.models.charlm import CharLM

    vocab, train, val = shakespeare
    R = recipe("04", "full")
    torch.manual_seed(0)
    model = CharLM(len(vocab), hidden=R["hidden"], layers=R["layers"], dropout=R["dropout"])
    model.eval()  # chapter 4, cell 4: the written-out forward equals model(x) with dropout off
    x = torch.as_tensor(train[:40]).view(2, 20)
    torch.testing.assert_close(model.head(model.rnn(model.embed(x))[0]), model(x)[0])
    hist = train_lm(model, text_stream(train, 2, R["k"]), FEW, lr=R["lr"], schedule="linear", warmup=0.02,
                    clip_norm=1.0, progress=False)
    assert finite(hist)
    assert np.isfinite(evaluate_text(model, val[:600], seq_len=128).nats)
    assert len(model.sample(vocab, "\n", 40, seed=0)) >= 40


def test_05_interpretable_cells_full_model(shakespeare):
    from rnnbook.interpret import record_lstm
    from rnnbook.models.charlm import CharLM

    vocab, train, val = shakespeare
    R = recipe("05", "full")
    torch.manual_seed(0)
    model = CharLM(len(vocab), hidden=R["hidden"], layers=R["layers"])
    hist = train_lm(model, text_stream(train, 2, R["k"]), FEW, lr=R["lr"], schedule="linear", warmup=0.02,
                    clip_norm=1.0, progress=False)
    assert finite(hist)
    warmup, n = 200, 10 * R["rows"]
    ids = val[: warmup + n]
    rec = record_lstm(model, ids, vocab.decode(ids), rows=R["rows"], warmup=warmup)
    assert rec.get("c", R["layers"] - 1).shape == (n, R["hidden"])


def test_06_gradient_flow_full_horizon():
    from rnnbook import gradflow as gf

    R = recipe("06", "full")
    flow = gf.rnn_gradient_flow(1.1, "tanh", T=2 * R["t_max"], seed=0)  # the chapter goes to 2 t_max
    assert len(flow.norms) == 2 * R["t_max"] and np.isfinite(flow.slope)
    assert R["echo_steps"] >= 1


def test_07_variants_full_tasks():
    from rnnbook.cells import StackedRNN
    from rnnbook.data.sequences import adding_problem, delayed_recall
    from rnnbook.train import fit

    R = recipe("07", "full")
    assert set(R["steps"]) == {"adding", "recall"} and R["seeds"]
    rng = np.random.default_rng(0)
    for cell in ("lstm", "gru", "mut1"):
        torch.manual_seed(0)
        inp, rnn, head = torch.nn.Linear(2, 32), StackedRNN.of(cell, 32, 32), torch.nn.Linear(32, 1)
        model = torch.nn.ModuleList([inp, rnn, head])

        def step_loss(step):
            x, y = adding_problem(rng, 4, R["t_add"])
            out = head(rnn(inp(torch.tensor(x, dtype=torch.float32)))[0])
            return F.mse_loss(out[:, -1, 0], torch.tensor(y, dtype=torch.float32))

        assert finite(fit(model, step_loss, FEW, lr=1e-2, progress=False))
    x, y = delayed_recall(rng, 4, R["lag"], 4, 4)
    assert x.shape[0] == 4 and x.shape[1] > R["lag"]


def test_08_captioning_full_scenes():
    from rnnbook.data import scenes as sc
    from rnnbook.models.captioner import Captioner, ConvEncoder
    from rnnbook.train.tasks import train_captioner

    R = recipe("08", "full")
    splits = sc.make_splits(32, 0, 4, seed=0, size=48, max_objects=R["max_objects"])
    train, test = splits["train"], splits["test"]
    word_to_idx, idx_to_word = sc.scene_vocab()
    captions, image_idxs = sc.caption_pairs(train, word_to_idx)
    torch.manual_seed(0)
    model = Captioner(len(idx_to_word), ConvEncoder(image_size=48, feature_dim=128, channels=(16, 32, 32), grid=3),
                      wordvec_dim=32, hidden_dim=192, cell="lstm", condition="both")
    hist = train_captioner(model, torch.from_numpy(train.images), torch.from_numpy(captions),
                           torch.from_numpy(image_idxs), steps=FEW, batch_size=4, progress=False)
    assert finite(hist)
    L = sc.max_caption_length(R["max_objects"]) + 1
    images = torch.from_numpy(test.images)
    for tokens in (model.greedy(images, L), model.beam_search(images, beam_size=3, max_length=L, length_penalty=1.0)):
        assert len(sc.decode_captions(tokens.cpu().numpy(), idx_to_word)) == len(test)


@pytest.fixture(scope="module")
def grid_scenes():
    from rnnbook.data.scenes import make_splits

    splits = make_splits(32, 0, 8, seed=0)
    return splits["train"], splits["test"]


def test_09_attention_full_sizes(grid_scenes):
    from rnnbook.data.scenes import encode_captions, scene_vocab
    from rnnbook.grounding import cell_labels
    from rnnbook.models.attention import GridEncoder, ShowAttendTell
    from rnnbook.train import fit
    from rnnbook.train.tasks import pretrain_encoder

    R = recipe("09", "full")
    assert R["beam_images"] <= R["test"]
    train, test = grid_scenes
    word_to_idx, idx_to_word = scene_vocab()
    NULL, START, END = (word_to_idx[w] for w in ("<NULL>", "<START>", "<END>"))
    captions = torch.from_numpy(encode_captions([c[0] for c in train.captions], word_to_idx))
    torch.manual_seed(0)
    encoder = GridEncoder()
    labels = {k: torch.from_numpy(v) for k, v in cell_labels(train).items()}
    assert np.isfinite(pretrain_encoder(encoder, torch.from_numpy(train.images), labels, steps=FEW, batch_size=4,
                                        progress=False)).all()
    with torch.no_grad():
        a_train, a_test = encoder(torch.from_numpy(train.images)), encoder(torch.from_numpy(test.images))
    model = ShowAttendTell(len(idx_to_word), NULL, START, END, hidden_dim=64, attn_dim=16, encoder=encoder)
    hist = fit(model, lambda step: model.loss(a_train[:4], captions[:4])[0], FEW, lr=1e-2, clip_norm=5.0,
               progress=False)
    assert finite(hist)
    assert model.greedy(a_test, max_length=18).tokens.shape[0] == len(test)
    assert model.beam(a_test[:2], beam_size=3, max_length=18).tokens.shape[0] == 2


def test_09b_vqa_full_sizes(grid_scenes):
    from rnnbook.data.vqa import ANSWERS, make_questions, question_vocab
    from rnnbook.models.attention import GridEncoder
    from rnnbook.models.vqa import VQAModel
    from rnnbook.train import fit

    assert recipe("09b", "full")["steps"] >= 1
    train, _ = grid_scenes
    q = make_questions(train, seed=0)
    _, idx_to_word = question_vocab()
    torch.manual_seed(0)
    encoder = GridEncoder()
    with torch.no_grad():
        a = encoder(torch.from_numpy(train.images))
    Q, A, I = (torch.from_numpy(x) for x in (q.tokens, q.answers, q.image_idx))
    model = VQAModel(len(idx_to_word), len(ANSWERS), null_idx=0, mode="full", glimpses=2, encoder=encoder)
    hist = fit(model, lambda step: F.cross_entropy(model(a[I[:8]], Q[:8]), A[:8]), FEW, lr=5e-3, clip_norm=5.0,
               progress=False)
    assert finite(hist)
    with torch.no_grad():
        assert model(a[I[:8]], Q[:8]).shape == (8, len(ANSWERS))


def test_10_glimpse_and_seq2seq_full_models():
    from rnnbook.data.digits import load_digit_images
    from rnnbook.data.translation import SRC_WORDS, TGT_CHARS, number_pairs
    from rnnbook.metrics import accuracy_by_length, glimpse_accuracy
    from rnnbook.models.glimpse import GlimpseClassifier
    from rnnbook.models.seq2seq import Seq2Seq
    from rnnbook.train.tasks import train_glimpse, train_seq2seq

    R = recipe("10", "full")
    x_train, y_train, x_test, y_test = load_digit_images(seed=0)
    torch.manual_seed(0)
    g = GlimpseClassifier(glimpses=4, size=R["g_size"], hidden=R["g_hidden"])
    assert finite(train_glimpse(g, x_train, y_train, FEW, batch_size=8, progress=False))
    assert 0.0 <= glimpse_accuracy(g, x_test[:50], y_test[:50]) <= 1.0
    for att in (None, "additive"):
        rng = np.random.default_rng(0)
        s2s = Seq2Seq(len(SRC_WORDS), len(TGT_CHARS), hidden=R["s_hidden"], embed=32, attention=att)
        hist = train_seq2seq(s2s, lambda step: number_pairs(rng, 4, R["digits"]), FEW, lr=1e-2, progress=False)
        assert finite(hist)
        by_len = accuracy_by_length(s2s, number_pairs(np.random.default_rng(1), 40, R["digits"]))
        assert max(by_len) <= R["digits"][1]


def test_10b_transformer_and_lstm_full_models(shakespeare):
    from rnnbook.models.charlm import CharLM
    from rnnbook.models.transformer import TinyTransformer

    vocab, train, val = shakespeare
    R = recipe("10b", "full")
    assert R["d_model"] % R["heads"] == 0
    torch.manual_seed(0)
    for model in (CharLM(len(vocab), hidden=R["hidden"]),
                  TinyTransformer(len(vocab), d_model=R["d_model"], layers=R["layers"], heads=R["heads"],
                                  block_size=R["k"])):
        hist = train_lm(model, text_stream(train, 2, R["k"]), FEW, schedule="linear", clip_norm=1.0, progress=False)
        assert finite(hist)
        chunks = list(tbptt_batches(val[: 2 * R["k"] + 1], 1, R["k"]))
        assert np.isfinite(evaluate(model, chunks).nats)
        assert len(model.sample(vocab, "\n", 20, seed=0)) >= 20
