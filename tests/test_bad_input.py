"""Bad input gets a clear error, never a silent wrong answer: one test per case, in the order of the robustness issue.

Part 1: inputs that gave a silent wrong answer (or lost data). Part 2: errors that were confusing; each test checks
the error's type and that its message names the argument (and, where there is one, the remedy). The data layer's
cache states are in ``test_bad_input_data.py``, the property-based tests in ``test_bad_input_props.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from rnnbook import minchar
from rnnbook.cells import LSTMCell, RNNCell, StackedRNN
from rnnbook.data import Vocab, download, registry
from rnnbook.env import check_device, get_device, setup
from rnnbook.exercises import attention, captioning, interpret, minchar as minchar_ex, tbptt as tbptt_ex
from rnnbook.exercises.recurrence import check_rnn_step_backward, check_rnn_step_forward
from rnnbook.minchar import MinCharRNN
from rnnbook.minchar_batched import BatchedMinCharRNN
from rnnbook.models.charlm import CharLM
from rnnbook.numpy_nn import rnn_backward, rnn_forward, rnn_step_forward
from rnnbook.numpy_nn.captioning import CaptioningRNN, temporal_softmax_loss
from rnnbook.numpy_nn.lstm import lstm_forward
from rnnbook.tbptt import text_stream, train_lm
from rnnbook.train import DivergenceError, DivergenceWatch, fit
from rnnbook.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

TEXT = "hello world, this is a tiny text to train on. " * 20
IDS = np.random.default_rng(0).integers(0, 20, 3000)


def small_lm(**kw) -> CharLM:
    torch.manual_seed(0)
    return CharLM(20, hidden=16, **kw)


def run(model=None, steps=5, **kw):
    kw = {"lr": 3e-3, "device": "cpu", "progress": False, **kw}
    return train_lm(model or small_lm(), kw.pop("stream", text_stream(IDS, 4, 16)), steps, **kw)


# ---- 1. train_lm: a loss far above its start for many updates is a divergence, not a result ------------------------

@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_1_train_lm_at_lr_1e3_raises_divergence(optimizer):
    with pytest.raises(DivergenceError) as err:
        run(steps=200, lr=1e3, optimizer=optimizer)
    assert "lr=1000.0" in str(err.value) and "clip_norm=" in str(err.value)


def test_1_divergence_watch_ignores_a_spike_but_not_a_plateau():
    watch = DivergenceWatch(factor=3.0, margin=1.0, patience=5)
    watch(4.0, 0, 0.1)  # the first loss sets the line at 3 * 4 + 1 = 13
    for step in range(1, 5):
        watch(100.0, step, 0.1)  # four updates above it: not yet
    watch(12.9, 5, 0.1)  # back under the line: the count starts again
    for step in range(6, 10):
        watch(13.5, step, 0.1)
    with pytest.raises(DivergenceError, match=r"above 13 .*lr=0.1"):
        watch(13.5, 10, 0.1)


def test_1_a_healthy_run_is_not_stopped():
    hist = run(steps=60, lr=1e-2)
    assert hist.steps == 60 and hist.loss[-1] < hist.loss[0]


# ---- 2. min-char-rnn at learning rate 1e3 ---------------------------------------------------------------------------

def test_2_minchar_diverges_with_a_clear_error():
    model = MinCharRNN(TEXT, hidden_size=16, seq_length=8, learning_rate=1e3, seed=0)
    with warnings.catch_warnings(), pytest.raises(DivergenceError) as err:
        warnings.simplefilter("ignore", RuntimeWarning)
        model.train(50)
    assert "learning_rate=1000.0" in str(err.value) and "clip" in str(err.value)


def test_2_batched_minchar_diverges_with_a_clear_error():
    model = BatchedMinCharRNN(TEXT, batch_size=2, hidden_size=16, seq_length=8, learning_rate=1e3, seed=0)
    with warnings.catch_warnings(), pytest.raises(DivergenceError) as err:
        warnings.simplefilter("ignore", RuntimeWarning)
        model.train(50)
    assert "learning_rate=1000.0" in str(err.value) and "clip" in str(err.value)


def test_2_minchar_cli_exits_nonzero_naming_the_learning_rate(tmp_path, capsys):
    data = tmp_path / "input.txt"
    data.write_text(TEXT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        status = minchar.main([str(data), "--iters", "300", "--learning-rate", "1e3", "--hidden-size", "16",
                               "--sample-every", "1"])
    err = capsys.readouterr().err
    assert status == 1 and "learning_rate=1000.0" in err and "--learning-rate" in err


def test_2_sampling_from_nan_weights_is_a_divergence_not_a_numpy_error():
    params = minchar.init_params(5, 4)
    params.Why[:] = np.nan
    with pytest.raises(DivergenceError, match="learning rate"):
        minchar.sample(np.zeros((4, 1)), 0, 3, params)


# ---- 3. numpy layers given integers compute in floating point -------------------------------------------------------

def _int_inputs(G=1):
    rng = np.random.default_rng(0)
    N, T, D, H = 2, 3, 4, 3
    return (rng.integers(-2, 3, (N, T, D)), rng.integers(-1, 2, (N, H)), rng.integers(-1, 2, (D, G * H)),
            rng.integers(-1, 2, (H, G * H)), rng.integers(-1, 2, (G * H,)))


def test_3_rnn_forward_on_integers_returns_float_states():
    args = _int_inputs()
    h, _ = rnn_forward(*args)
    want, _ = rnn_forward(*(a.astype(float) for a in args))
    assert h.dtype == np.float64 and np.any(h != 0)
    np.testing.assert_allclose(h, want)


def test_3_lstm_forward_on_integers_returns_float_states():
    args = _int_inputs(G=4)
    h, _ = lstm_forward(*args)
    want, _ = lstm_forward(*(a.astype(float) for a in args))
    assert h.dtype == np.float64 and np.any(h != 0)
    np.testing.assert_allclose(h, want)


def test_3_rnn_backward_with_an_integer_upstream_gradient_is_not_truncated():
    rng = np.random.default_rng(1)
    x, h0, Wx, Wh, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), \
        rng.standard_normal((3, 3)), rng.standard_normal(3)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.integers(-3, 4, h.shape)
    got, want = rnn_backward(dh, cache), rnn_backward(dh.astype(float), cache)
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w)


# ---- 4. word ids in [0, V) and finite features ---------------------------------------------------------------------

WORDS = {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "b": 4}


def test_4_captioning_loss_refuses_negative_word_ids():
    model = CaptioningRNN(WORDS, input_dim=3, wordvec_dim=4, hidden_dim=5, dtype=np.float64)
    captions = np.array([[1, 3, 4, -1]])  # -1 in the last column is only ever a target: it used to wrap to "b"
    with pytest.raises(ValueError, match=r"captions must hold word ids in \[0, 5\)"):
        model.loss(np.ones((1, 3)), captions)


def test_4_temporal_softmax_loss_refuses_negative_targets():
    x = np.zeros((1, 2, 5))
    with pytest.raises(ValueError, match=r"y must hold word ids in \[0, 5\)"):
        temporal_softmax_loss(x, np.array([[1, -1]]), np.ones((1, 2), bool))


def test_4_captioning_sample_refuses_nan_features():
    model = CaptioningRNN(WORDS, input_dim=3, wordvec_dim=4, hidden_dim=5, dtype=np.float64)
    with pytest.raises(ValueError, match="features contains NaN"):
        model.sample(np.full((2, 3), np.nan))


# ---- 5. an LSTM's state is the pair (h, c) -------------------------------------------------------------------------

def test_5_lstm_cell_refuses_a_bare_tensor_as_state():
    cell = LSTMCell(3, 4)
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match=r"state must be the tuple \(h, c\)"):
        cell(x, torch.zeros(2, 4))


def test_5_lstm_cell_refuses_a_state_of_the_wrong_width():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"state's c must be a tensor of shape \(N, H\) = \(2, 4\)"):
        cell(torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 5)))


# ---- 6. an empty RNNBOOK_CACHE is unset; nothing is ever deleted ---------------------------------------------------

def test_6_empty_cache_variable_means_the_default_cache(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNNBOOK_CACHE", "")
    assert download.cache_dir() == tmp_path / "home" / ".cache" / "rnnbook"
    monkeypatch.setenv("RNNBOOK_DATA", "  ")
    assert download.mirror_dir() is None


def test_6_a_file_with_the_wrong_checksum_is_moved_aside_not_deleted(tmp_path, monkeypatch):
    body = b"the real file\n"
    import hashlib
    remote = registry.RemoteFile("mine.txt", "http://127.0.0.1:9/mine.txt", hashlib.sha256(body).hexdigest(), len(body))
    monkeypatch.setenv("RNNBOOK_CACHE", str(tmp_path))
    monkeypatch.delenv("RNNBOOK_DATA", raising=False)
    (tmp_path / "mine.txt").write_text("a student's own notes")
    with pytest.raises(FileNotFoundError, match="moved aside"):
        download.fetch(remote, progress=False)
    assert (tmp_path / "mine.txt.corrupt").read_text() == "a student's own notes"


# ---- 7. exercise checks compute the expectation on inputs the answer cannot change ----------------------------------

def test_7_a_forward_that_zeroes_b_in_place_is_rejected(capsys):
    def sneaky(x, prev_h, Wx, Wh, b):
        b[:] = 0.0
        return np.tanh(x @ Wx + prev_h @ Wh + b)

    assert not check_rnn_step_forward(sneaky)
    assert "next_h" in capsys.readouterr().out


def test_7_a_correct_in_place_backward_is_accepted():
    def in_place(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        dnext_h *= 1 - next_h**2  # da, computed in the upstream gradient's own memory
        return dnext_h @ Wx.T, dnext_h @ Wh.T, x.T @ dnext_h, prev_h.T @ dnext_h, dnext_h.sum(axis=0)

    assert check_rnn_step_backward(in_place)


# ---- 8. numbers are real numbers, masks are boolean -----------------------------------------------------------------

def test_8_a_loss_returned_as_a_string_is_rejected(capsys):
    from rnnbook.numpy_nn.captioning import temporal_softmax_loss as ref

    def as_text(x, y, mask):
        loss, dx = ref(x, y, mask)
        return str(loss), dx

    assert not captioning.check_temporal_softmax_loss(as_text)
    assert "the loss as one number" in capsys.readouterr().out


def test_8_a_batched_loss_returned_as_a_string_is_rejected(capsys):
    from rnnbook.minchar_batched import batched_lossFun

    def as_text(inputs, targets, hprev, params):
        out = batched_lossFun(inputs, targets, hprev, params)
        return str(out[0]), out[6]

    assert not minchar_ex.check_batched_forward_loss(as_text)
    assert "the loss as one number" in capsys.readouterr().out


def test_8_a_penalty_returned_as_repr_is_rejected(capsys):
    assert not attention.check_doubly_stochastic(lambda a: repr(attention.reference_doubly_stochastic(a)))
    assert "one number" in capsys.readouterr().out


def test_8_a_mask_of_halves_is_rejected(capsys):
    from rnnbook.tbptt import gradient_mask

    assert not tbptt_ex.check_tbptt_mask(lambda T, k: gradient_mask(T, k) * 0.5 + 0.0 * (gradient_mask(T, k) == 0))
    assert "booleans" in capsys.readouterr().out
    assert tbptt_ex.check_tbptt_mask(lambda T, k: gradient_mask(T, k).astype(int))  # 0/1 integers are a mask


def test_8_a_comment_mask_of_halves_is_rejected(capsys):
    from rnnbook.interpret import c_features

    assert not interpret.check_inside_comment(lambda text: c_features(text)["comment"] * 0.5)
    assert "booleans" in capsys.readouterr().out


def test_8_a_peak_that_is_not_a_bool_is_rejected(capsys):
    assert not attention.check_peak_in_mask(lambda alpha, inside: (alpha[inside].sum(), "yes"))
    assert "peak must be a bool" in capsys.readouterr().out


# ---- confusing errors: wrong types and out-of-range inputs ----------------------------------------------------------

def test_numpy_layer_refuses_a_torch_tensor():
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"rnn_step_forward: x must be a numpy array.*x.detach\(\).cpu\(\).numpy\(\)"):
        rnn_step_forward(torch.zeros(2, 3), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4))
    with pytest.raises(TypeError, match="Wh must hold real numbers"):
        rnn_step_forward(x, np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4), bool), np.zeros(4))


def test_numpy_layer_accepts_lists_like_arrays():
    args = [[[0.5, -0.5, 1.0]], [[0.0, 0.0]], [[0.1, 0.2]] * 3, [[0.3, 0.1], [0.0, 0.2]], [0.0, 0.1]]
    got, _ = rnn_step_forward(*args)
    want, _ = rnn_step_forward(*(np.asarray(a) for a in args))
    np.testing.assert_array_equal(got, want)


def test_cell_refuses_integer_and_float64_inputs():
    cell = RNNCell(3, 4)
    with pytest.raises(TypeError, match=r"x_t has dtype torch.int64, the weights are torch.float32"):
        cell(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match=r"x_t has dtype torch.float64"):
        cell(torch.zeros(2, 3, dtype=torch.float64))


def test_cell_refuses_a_state_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"state's h must be a tensor of shape \(N, H\) = \(2, 4\), got \(2, 5\)"):
        RNNCell(3, 4)(torch.zeros(2, 3), (torch.zeros(2, 5),))


def test_stacked_rnn_refuses_zero_time_steps():
    with pytest.raises(ValueError, match="x has T = 0 time steps"):
        StackedRNN.of("gru", 3, 4)(torch.zeros(2, 0, 3))


def test_stacked_rnn_refuses_a_bare_tensor_as_a_layer_state():
    with pytest.raises(TypeError, match=r"StackedRNN layer 0: state must be the tuple \(h, c\)"):
        StackedRNN.of("lstm", 3, 4)(torch.zeros(2, 5, 3), [torch.zeros(2, 4)])


@pytest.mark.parametrize("bad", [20, -1])
def test_charlm_refuses_ids_outside_the_vocabulary(bad):
    x = torch.tensor([[0, 1, bad]])
    with pytest.raises(ValueError, match=r"ids in \[0, 20\) \(vocab_size\)"):
        small_lm()(x)


def test_minchar_sample_text_names_an_unknown_seed_char():
    model = MinCharRNN(TEXT, hidden_size=8, seq_length=8, seed=0)
    with pytest.raises(ValueError, match="seed_char 'Z' is not in the model's vocabulary"):
        model.sample_text(5, seed_char="Z")
    batched = BatchedMinCharRNN(TEXT, batch_size=2, hidden_size=8, seq_length=8, seed=0)
    with pytest.raises(ValueError, match="seed_char 'Z'"):
        batched.sample_text(5, seed_char="Z")


def test_vocab_decode_refuses_floats():
    vocab = Vocab.from_text("abc")
    with pytest.raises(TypeError, match="ids must be integer indices"):
        vocab.decode(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="ids must be integer indices"):
        vocab.decode([0, 1.5])


@pytest.mark.parametrize("budget", [0, -1.0])
def test_train_lm_refuses_a_time_budget_of_zero(budget):
    with pytest.raises(ValueError, match="time_budget must be a number of seconds > 0"):
        run(steps=None, time_budget=budget)


def test_train_lm_needs_steps_or_a_time_budget():
    with pytest.raises(ValueError, match="give steps .* time_budget"):
        run(steps=None)


@pytest.mark.parametrize("kw, name", [({"lr": 0.0}, "lr"), ({"lr": float("nan")}, "lr"), ({"warmup": 1.0}, "warmup"),
                                      ({"eval_every": 0}, "eval_every"), ({"checkpoint_every": 0}, "checkpoint_every"),
                                      ({"steps": 0}, "steps")])
def test_train_lm_names_a_bad_argument(kw, name):
    with pytest.raises(ValueError, match=f"{name} must be"):
        run(**{"steps": 5, **kw})


def test_train_lm_refuses_ids_instead_of_a_stream():
    with pytest.raises(TypeError, match=r"stream must be a function .* text_stream\(ids"):
        run(stream=IDS)


def test_fit_names_a_step_loss_that_returns_a_float():
    model = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"step_loss\(step\) .* must be a scalar tensor.* got a float"):
        fit(model, lambda step: float(model(torch.ones(1, 2)).sum().detach()), steps=3, progress=False)


# ---- confusing errors: checkpoints ----------------------------------------------------------------------------------

def test_checkpoint_text_file_is_not_an_rnnbook_checkpoint(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, small_lm())
    message = str(err.value)
    assert "not a checkpoint written by rnnbook" in message and "Never load a file you do not trust" in message
    assert "weights_only=False" in message and "set `weights_only" not in message.lower()


def test_checkpoint_bare_state_dict_is_named(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(small_lm().state_dict(), path)
    with pytest.raises(CheckpointError, match="bare state_dict.*model.load_state_dict"):
        load_checkpoint(path, small_lm())


def test_checkpoint_of_another_size_names_the_size(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", small_lm())
    torch.manual_seed(0)
    with pytest.raises(CheckpointError, match=r"vocab_size=20 \(model: 30\)"):
        load_checkpoint(path, CharLM(30, hidden=16))


def test_checkpoint_of_another_model_class_is_named(tmp_path):
    path = save_checkpoint(tmp_path / "c.pt", small_lm())
    with pytest.raises(CheckpointError, match="holds a CharLM, but model is a Linear"):
        load_checkpoint(path, torch.nn.Linear(2, 2))


def test_resume_with_another_optimizer_names_it(tmp_path):
    path = tmp_path / "c.pt"
    run(steps=3, checkpoint=path, optimizer="sgd")
    with pytest.raises(CheckpointError, match="trained with the optimizer SGD, but optimizer is a Adam.*optimizer='sgd'"):
        run(steps=6, checkpoint=path, resume=True, optimizer="adam")


def test_resume_with_another_batch_size_names_it(tmp_path):
    path = tmp_path / "c.pt"
    run(steps=3, checkpoint=path)
    with pytest.raises(CheckpointError, match="carried the state of 4 rows, but stream gives chunks of 8"):
        run(steps=6, checkpoint=path, resume=True, stream=text_stream(IDS, 8, 16))


def test_resume_true_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume=True, but there is no checkpoint.*resume='auto'"):
        run(steps=3, checkpoint=tmp_path / "none.pt", resume=True)
    with pytest.raises(ValueError, match="resume needs checkpoint="):
        run(steps=3, resume=True)


def test_resume_auto_starts_afresh_then_continues(tmp_path):
    path = tmp_path / "c.pt"
    first = run(steps=3, checkpoint=path, resume="auto")
    again = run(steps=5, checkpoint=path, resume="auto")
    assert first.steps == 3 and again.steps == 5 and len(again.loss) == 2  # continued from step 3


def test_checkpoint_records_what_it_needs_to_be_checked(tmp_path):
    from rnnbook import __version__

    path = tmp_path / "c.pt"
    run(steps=2, checkpoint=path)
    about = torch.load(path, weights_only=True)["rnnbook"]
    assert about == {"model": "CharLM", "sizes": {"vocab_size": 20, "hidden": 16, "layers": 1, "cell": "lstm"},
                     "optimizer": "Adam", "vocab_size": 20, "rnnbook": __version__, "batch_size": 4}


# ---- confusing errors: devices --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["tpu", "meta", "CPU", "mps" if not torch.backends.mps.is_available() else "tpu"])
def test_rnnbook_device_is_validated_by_setup(monkeypatch, value, capsys):
    monkeypatch.setenv("RNNBOOK_DEVICE", value)
    with pytest.raises(ValueError, match=f"RNNBOOK_DEVICE='{value}' is not a device torch can use here.*available "
                                         "devices: cpu"):
        setup(0)


def test_device_names_suggest_the_lower_case_spelling():
    with pytest.raises(ValueError, match="did you mean 'cpu'"):
        check_device("CPU")


def test_explicit_device_argument_is_validated():
    with pytest.raises(ValueError, match="device='tpu' is not a device"):
        run(steps=2, device="tpu")
    with pytest.raises(ValueError, match="prefer='xla'"):
        get_device("xla")


def test_empty_rnnbook_device_means_unset(monkeypatch):
    monkeypatch.setenv("RNNBOOK_DEVICE", "")
    assert get_device() == ("cuda" if torch.cuda.is_available() else "cpu")


# ---- confusing errors: exercise checks and wrong-shaped returns ----------------------------------------------------

def test_exercise_check_names_a_ragged_return_instead_of_crashing(capsys):
    from rnnbook.exercises.lstm import check_lstm_step_backward

    ragged = lambda dnext_h, dnext_c, cache: (np.zeros((3, 4)), (np.zeros(2), np.zeros(3)), 0, 0, 0, 0)
    assert not check_lstm_step_backward(ragged)
    assert "cannot turn into one array" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [lambda *a: ([0.1, 0.2], [0.3]), lambda *a: None, lambda *a: "0.5"])
def test_exercise_checks_survive_odd_returns(answer, capsys):
    """Checks that convert the answer themselves print what came back instead of letting numpy raise."""
    from rnnbook.exercises import beyond, charlm, clipping, minchar as mc

    checks = [charlm.check_next_char_probs, clipping.check_clip_by_global_norm, interpret.check_position_in_line,
              beyond.check_causal_mask, beyond.check_causal_attention, mc.check_softmax_temperature,
              attention.check_majority_answer]
    for check in checks:
        assert check(answer) is False, check.__name__
    assert "Traceback" not in capsys.readouterr().out


def test_check_evaluate_computes_its_expectation_before_the_answer_runs(capsys):
    from rnnbook.exercises import charlm as charlm_ex
    from rnnbook.tbptt import evaluate_text

    def train_then_evaluate(model, ids, batch_size, seq_len):
        with torch.no_grad():
            model.head.bias.add_(5.0 * torch.arange(5.0))  # changes the model it was handed
        return evaluate_text(model, ids, batch_size, seq_len).nats

    assert not charlm_ex.check_evaluate(train_then_evaluate)
