"""Tests of ``rnnbook.exercises.attention``: checks for the attention chapter's exercises. Each prints what is right or
what is wrong and where, and returns a bool; an answer that still raises ``NotImplementedError`` (the template) gets
a reminder, not a failure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnnbook.exercises import attention  # noqa: E402
from rnnbook.exercises.attention import (  # noqa: E402
    check_answer_features,
    check_doubly_stochastic,
    check_majority_answer,
    check_optimal_baseline,
    check_peak_in_mask,
    reference_answer_features,
    reference_doubly_stochastic,
    reference_glimpse,
    reference_majority_answer,
    reference_optimal_baseline,
)
from rnnbook.models.attention import GridEncoder  # noqa: E402


def test_exercise_checks_accept_right_and_reject_wrong(capsys):
    assert check_doubly_stochastic(reference_doubly_stochastic)
    assert not check_doubly_stochastic(lambda al: float(((1 - al.sum(axis=2)) ** 2).sum(axis=1).mean()))
    assert "axes swapped" in capsys.readouterr().out

    assert check_peak_in_mask(lambda al, ins: (float(al[ins].sum()), bool(ins[np.argmax(al)])))
    assert not check_peak_in_mask(lambda al, ins: (float(ins.mean()), bool(ins[np.argmax(al)])))
    assert "uniform baseline" in capsys.readouterr().out

    assert check_majority_answer(reference_majority_answer)
    assert not check_majority_answer(lambda tr, ans, te: np.full(len(te), np.bincount(ans).argmax()))
    assert "question text ignored" in capsys.readouterr().out


def _hop_params(model, k):
    hop, W_v = model.hops[k], model.W_v[k]
    return tuple(p.detach().numpy() for p in (hop.W_a.weight.T, hop.W_h.weight.T, hop.W_h.bias, hop.w.weight[0],
                                              W_v.weight.T, W_v.bias))


def test_glimpse_and_answer_features_agree_with_the_model():
    from rnnbook.models.vqa import VQAModel

    torch.manual_seed(0)
    model = VQAModel(20, 5, 0, hidden_dim=6, attn_dim=4, encoder=GridEncoder((4, 8, 8))).double()
    a = torch.randn(2, 64, 10, dtype=torch.float64)
    questions = torch.tensor([[3, 4, 5, 0], [6, 7, 0, 0]])
    hop, W_v = model.hops[0], model.W_v[0]
    with torch.no_grad():
        scores = model(a, questions)
        u = model.question(questions)
        alpha = torch.softmax(hop.scores(hop.project(a), u), dim=1)
        u_next = u + torch.tanh(W_v((alpha.unsqueeze(-1) * a).sum(1)))
    u_ref, alpha_ref = reference_glimpse(a.numpy(), u.numpy(), *_hop_params(model, 0))
    np.testing.assert_allclose(alpha_ref, alpha.numpy(), rtol=1e-10)
    np.testing.assert_allclose(u_ref, u_next.numpy(), rtol=1e-10)
    alphas, x = reference_answer_features(a.numpy(), u.numpy(), _hop_params(model, 0), _hop_params(model, 1))
    np.testing.assert_allclose(alphas, model.last_alphas.numpy(), rtol=1e-10)
    with torch.no_grad():
        np.testing.assert_allclose(model.classifier(torch.from_numpy(x)).numpy(), scores.numpy(), rtol=1e-10)


def _softmax_rows(e):
    p = np.exp(e - e.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _features_with(mistake):
    """An answer_features written from scratch, with one step done the wrong way (None: no mistake)."""

    def fn(a, q, hop_1, hop_2):
        act = np.tanh if mistake == "tanh" else (lambda v: np.maximum(v, 0.0))
        e_1 = act(a @ hop_1[0] + (q @ hop_1[1] + hop_1[2])[:, None, :]) @ hop_1[3]
        alpha_1 = _softmax_rows(e_1)
        read_1 = np.einsum("nl,nld->nd", alpha_1, a) @ hop_1[4] + hop_1[5]
        u_1 = {"no tanh": q + read_1, "replaced": np.tanh(read_1)}.get(mistake, q + np.tanh(read_1))
        query_2 = q if mistake == "q" else u_1
        hop = hop_1 if mistake == "hop 1 weights" else hop_2
        e_2 = np.maximum(a @ hop[0] + (query_2 @ hop[1] + hop[2])[:, None, :], 0.0) @ hop[3]
        alpha_2 = _softmax_rows(e_2)
        z_2 = np.einsum("nl,nld->nd", alpha_1 if mistake == "alpha_1 read" else alpha_2, a)
        W_v, b_v = hop_1[4:] if mistake == "hop 1 W_v" else hop_2[4:]
        base = q if mistake == "q base" else u_1
        u_2 = u_1 if mistake == "no second read" else base + np.tanh(z_2 @ W_v + b_v)
        alphas = np.stack([alpha_1, alpha_1 if mistake == "copy" else alpha_2], axis=1)
        e = np.stack([e_1, e_2], axis=1)
        m = {"alpha mean": alphas.mean(2), "sigmoid of mean": _sigmoid(e.mean(2)),
             "no sigmoid": e.mean(2)}.get(mistake, _sigmoid(e).mean(2))
        x = np.concatenate([m, u_2] if mistake == "order" else [u_2, m], axis=1)
        return (alphas.transpose(0, 2, 1) if mistake == "unstacked" else alphas), x

    return fn


@pytest.mark.parametrize("mistake, hint", [
    ("tanh", "tanh instead of relu"),
    ("copy", "a copy of the first glimpse"),
    ("q", "never refined by what the first glimpse read"),
    ("hop 1 weights", "with the first hop's weights"),
    ("replaced", "the query replaced, q forgotten"),
    ("no tanh", "the tanh of the update is missing"),
    ("no second read", "the second glimpse's reading was never added"),
    ("q base", "the first glimpse's update dropped"),
    ("alpha_1 read", "the second update read with alpha_1"),
    ("hop 1 W_v", "with hop 1's W_v"),
    ("alpha mean", "the softmax weights sum to one whatever matched"),
    ("sigmoid of mean", "the sigmoid of the mean score"),
    ("no sigmoid", "the sigmoid is missing"),
    ("order", "the right parts in the wrong order"),
    ("unstacked", "stack alpha_1 and alpha_2 on axis 1"),
])
def test_answer_features_check_names_each_mistake(mistake, hint, capsys):
    assert check_answer_features(_features_with(None))
    assert check_answer_features(reference_answer_features)
    capsys.readouterr()
    assert not check_answer_features(_features_with(mistake))
    out = capsys.readouterr().out
    assert hint in out, out


def test_answer_features_check_survives_a_template_and_a_crash(capsys):
    def template(*args):
        raise NotImplementedError

    assert not check_answer_features(template)
    assert "not implemented yet" in capsys.readouterr().out
    assert not check_answer_features(lambda *args: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not check_answer_features(lambda a, q, h1, h2: reference_answer_features(a, q, h1, h2)[0])
    assert "the pair (alphas, x)" in capsys.readouterr().out


def test_check_optimal_baseline_names_the_mean_reward(capsys):
    assert check_optimal_baseline(reference_optimal_baseline)
    assert not check_optimal_baseline(lambda p, R: float(p @ R))
    assert "mean reward" in capsys.readouterr().out
    assert not check_optimal_baseline(lambda p, R: float(R.mean()))
    assert "without the probabilities" in capsys.readouterr().out


# --- bad input ------------------------------------------------------------------------------------------------


def test_8_a_penalty_returned_as_repr_is_rejected(capsys):
    assert not attention.check_doubly_stochastic(lambda a: repr(attention.reference_doubly_stochastic(a)))
    assert "one number" in capsys.readouterr().out


def test_8_a_peak_that_is_not_a_bool_is_rejected(capsys):
    assert not attention.check_peak_in_mask(lambda alpha, inside: (alpha[inside].sum(), "yes"))
    assert "peak must be a bool" in capsys.readouterr().out
