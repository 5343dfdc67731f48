"""Checks for the attention chapter's exercises. Each prints what is right or what is wrong and where, and returns a
bool; an answer that still raises ``NotImplementedError`` (the template) gets a reminder, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import as_number
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import compare as _compare
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import to_array as _to_array


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def reference_soft_attention(a, h, W_a, W_h, b, w):
    """e_i = w . tanh(a_i W_a + h W_h + b); alpha = softmax(e) over i; z = sum_i alpha_i a_i. Returns (z, alpha)."""
    e = np.tanh(a @ W_a + (h @ W_h + b)[:, None, :]) @ w  # (N, L)
    alpha = _softmax(e, axis=1)
    return np.einsum("nl,nld->nd", alpha, a), alpha


def _attention_inputs(seed: int = 0, N: int = 3, L: int = 6, D: int = 4, H: int = 5, A: int = 7):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, L, D)), rng.standard_normal((N, H)), rng.standard_normal((D, A)),
            rng.standard_normal((H, A)), rng.standard_normal(A), rng.standard_normal(A))


def reference_doubly_stochastic(alphas: np.ndarray) -> float:
    """sum_i (1 - sum_t alpha_ti)^2, averaged over the batch; alphas (N, T, L)."""
    return float(((1.0 - alphas.sum(axis=1)) ** 2).sum(axis=1).mean())


def check_doubly_stochastic(fn: Callable) -> bool:
    """Check ``fn(alphas (N, T, L)) -> float``: the doubly stochastic penalty averaged over the batch."""
    name = "check_doubly_stochastic"
    rng = np.random.default_rng(4)
    alphas = _softmax(rng.standard_normal((3, 5, 8)) * 2, axis=2)
    ok, got = _call(name, fn, alphas)
    if not ok:
        return False
    got = as_number(name, got, "one number (a float)")
    if got is None:
        return False
    want = reference_doubly_stochastic(alphas)
    hints = {
        "the sum over time of (1 - sum over locations)^2 (the axes swapped)":
            float(((1.0 - alphas.sum(axis=2)) ** 2).sum(axis=1).mean()),
        "the sum over the batch instead of the mean": float(((1.0 - alphas.sum(axis=1)) ** 2).sum()),
        "the mean over locations instead of the sum": float(((1.0 - alphas.sum(axis=1)) ** 2).mean()),
        "sum_i (1 - sum_t alpha_ti) without the square": float((1.0 - alphas.sum(axis=1)).sum(axis=1).mean()),
    }
    if np.isclose(got, want, rtol=1e-6, atol=1e-9):
        print(f"{name}: correct.")
        return True
    print(f"{name}: got {got:.6f}, expected {want:.6f}.")
    for hint, value in hints.items():
        if np.isclose(got, value, rtol=1e-6, atol=1e-9):
            print(f"  hint: your value equals {hint}.")
    return False


def check_peak_in_mask(fn: Callable) -> bool:
    """Check ``fn(alpha (L,), inside (L,) bool) -> (mass, peak)``: attention mass on the object, and whether the
    attention's maximum lies on it."""
    name = "check_peak_in_mask"
    rng = np.random.default_rng(5)
    cases = []
    for _ in range(6):
        alpha = _softmax(rng.standard_normal(16) * 2, axis=0)
        inside = rng.random(16) < 0.3
        cases.append((alpha, inside))
    alpha = np.full(16, 0.02)
    alpha[3] = 0.7
    inside = np.zeros(16, dtype=bool)
    inside[[3, 4]] = True
    cases.append((alpha / alpha.sum(), inside))
    for k, (alpha, inside) in enumerate(cases):
        ok, out = _call(name, fn, alpha, inside)
        if not ok:
            return False
        if not _returns_tuple(name, out, 2, "the pair (mass, peak)"):
            return False
        mass = as_number(name, out[0], "the mass as one number (a float)")
        if mass is None:
            return False
        if not isinstance(out[1], (bool, np.bool_)) and not (isinstance(out[1], (int, np.integer)) and out[1] in (0, 1)):
            print(f"{name}: peak must be a bool (is the maximum on the object?), got {type(out[1]).__name__} "
                  f"{out[1]!r}.")
            return False
        peak = bool(out[1])
        want_mass, want_peak = float(alpha[inside].sum()), bool(inside[int(np.argmax(alpha))])
        if not np.isclose(mass, want_mass, rtol=1e-6, atol=1e-9):
            print(f"{name}: case {k}: mass {mass:.4f}, expected {want_mass:.4f} (the sum of alpha over the object's cells).")
            if np.isclose(mass, inside.mean()):
                print("  hint: that is the uniform baseline |M| / L, not the model's attention.")
            return False
        if peak != want_peak:
            print(f"{name}: case {k}: peak {peak}, expected {want_peak} (is argmax alpha one of the object's cells?).")
            return False
    print(f"{name}: correct.")
    return True


def reference_majority_answer(train_texts, train_answers, test_texts) -> np.ndarray:
    """For each test question, the answer given most often to the same question text in training (ties: the smaller
    answer index); a question never seen in training gets the most frequent answer overall."""
    train_answers = np.asarray(train_answers)
    n = int(train_answers.max()) + 1
    overall = int(np.bincount(train_answers, minlength=n).argmax())
    by_text: dict[str, np.ndarray] = {}
    for t, a in zip(train_texts, train_answers):
        by_text.setdefault(t, np.zeros(n, dtype=np.int64))[a] += 1
    return np.array([int(by_text[t].argmax()) if t in by_text else overall for t in test_texts], dtype=np.int64)


def check_majority_answer(fn: Callable) -> bool:
    """Check ``fn(train_texts, train_answers, test_texts) -> predicted answers (M,)``: the language prior."""
    name = "check_majority_answer"
    rng = np.random.default_rng(6)
    questions = [f"question {k} ?" for k in range(5)]
    train_texts = [questions[int(k)] for k in rng.integers(0, 4, 60)]  # question 4 never appears in training
    train_answers = np.array([(len(t) + int(r)) % 3 if r < 3 else int(r) for t, r in
                              zip(train_texts, rng.integers(0, 6, 60))])
    test_texts = questions + questions[::-1]
    ok, got = _call(name, fn, train_texts, train_answers, test_texts)
    if not ok:
        return False
    want = reference_majority_answer(train_texts, train_answers, test_texts)
    overall = np.full_like(want, int(np.bincount(train_answers).argmax()))
    if _compare(name, "the predicted answers", got, want,
                {"the overall most frequent answer for every question (the question text ignored)": overall}):
        print(f"{name}: correct.")
        return True
    return False


def reference_glimpse(a, u, W_a, W_h, b, w, W_v, b_v):
    """One VQA glimpse: alpha = softmax(w . relu(a_i W_a + u W_h + b)); u' = u + tanh((sum_i alpha_i a_i) W_v + b_v).
    Returns (u', alpha)."""
    e = np.maximum(a @ W_a + (u @ W_h + b)[:, None, :], 0.0) @ w
    alpha = _softmax(e, axis=1)
    return u + np.tanh(np.einsum("nl,nld->nd", alpha, a) @ W_v + b_v), alpha


def _hop_inputs(seed: int, D: int, H: int, A: int = 7) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((D, A)), rng.standard_normal((H, A)), rng.standard_normal(A), rng.standard_normal(A),
            rng.standard_normal((D, H)) * 0.5, rng.standard_normal(H) * 0.5)


def _amount(a, u, W_a, W_h, b, w) -> np.ndarray:
    """m = mean_i sigmoid(e_i), (N, 1): how much of the grid matched the query."""
    e = np.maximum(a @ W_a + (u @ W_h + b)[:, None, :], 0.0) @ w
    return (1.0 / (1.0 + np.exp(-e))).mean(axis=1, keepdims=True)


def reference_answer_features(a, q, hop_1, hop_2):
    """The classifier's input of a two-glimpse VQA model. Each hop is (W_a, W_h, b, w, W_v, b_v), row vectors:

        u_0 = q;  alpha_k = softmax_i(w_k . relu(a_i W_a,k + u_{k-1} W_h,k + b_k));
        u_k = u_{k-1} + tanh((sum_i alpha_ki a_i) W_v,k + b_v,k);  m_k = mean_i sigmoid(e_ki)

    a (N, L, D), q (N, H). Returns (alphas (N, 2, L), x = [u_2; m_1; m_2] (N, H + 2))."""
    u_1, alpha_1 = reference_glimpse(a, q, *hop_1)
    u_2, alpha_2 = reference_glimpse(a, u_1, *hop_2)
    m_1, m_2 = _amount(a, q, *hop_1[:4]), _amount(a, u_1, *hop_2[:4])
    return np.stack([alpha_1, alpha_2], axis=1), np.concatenate([u_2, m_1, m_2], axis=1)


def check_answer_features(fn: Callable) -> bool:
    """Check ``fn(a (N,L,D), q (N,H), hop_1, hop_2) -> (alphas (N,2,L), x (N,H+2))``, each hop
    (W_a, W_h, b, w, W_v, b_v): two glimpses, the second queried with u_1, and the classifier's input [u_2; m_1; m_2].
    """
    name = "check_answer_features"
    a, q = _attention_inputs(7)[:2]
    L, D = a.shape[1:]
    H = q.shape[1]
    hop_1, hop_2 = _hop_inputs(8, D, H), _hop_inputs(9, D, H)
    ok, out = _call(name, fn, a, q, hop_1, hop_2)
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "the pair (alphas, x)"):
        return False
    alphas, x = out
    alphas_want, x_want = reference_answer_features(a, q, hop_1, hop_2)
    alphas = _to_array(name, "alphas", alphas)
    if alphas is None:
        return False
    if alphas.shape != alphas_want.shape:
        print(f"{name}: alphas has shape {alphas.shape}, expected {alphas_want.shape} (N, glimpses, L): stack "
              "alpha_1 and alpha_2 on axis 1, as VQAModel.last_alphas does.")
        return False
    alpha_1, alpha_2 = alphas_want[:, 0], alphas_want[:, 1]
    hints = {"attention with tanh instead of relu": reference_soft_attention(a, q, *hop_1[:4])[1],
             "the first glimpse with the second hop's weights": reference_glimpse(a, q, *hop_2)[1]}
    if not _compare(name, "alpha_1 (alphas[:, 0])", alphas[:, 0], alpha_1, hints):
        return False
    W_v, b_v = hop_1[4:]
    z_1 = np.einsum("nl,nld->nd", alpha_1, a)
    read_1 = np.tanh(z_1 @ W_v + b_v)
    hints = {
        "a copy of the first glimpse": alpha_1,
        "a glimpse queried with q: the query was never refined by what the first glimpse read":
            reference_glimpse(a, q, *hop_2)[1],
        "a glimpse queried with u_1 but with the first hop's weights (each glimpse has its own)":
            reference_glimpse(a, q + read_1, *hop_1)[1],
        "a glimpse queried with tanh(z_1 W_v + b_v) alone: the query replaced, q forgotten":
            reference_glimpse(a, read_1, *hop_2)[1],
        "a glimpse queried with q + z_1 W_v + b_v: the tanh of the update is missing":
            reference_glimpse(a, q + z_1 @ W_v + b_v, *hop_2)[1],
    }
    if not _compare(name, "alpha_2 (alphas[:, 1])", alphas[:, 1], alpha_2, hints):
        return False
    u_1 = q + read_1
    z_2 = np.einsum("nl,nld->nd", alpha_2, a)
    W_v2, b_v2 = hop_2[4:]
    u_2, m = x_want[:, :H], x_want[:, H:]
    e = np.stack([np.maximum(a @ hop[0] + (u @ hop[1] + hop[2])[:, None, :], 0.0) @ hop[3]
                  for hop, u in ((hop_1, q), (hop_2, u_1))], axis=1)  # (N, 2, L)

    def cat(u: np.ndarray, m_: np.ndarray) -> np.ndarray:
        return np.concatenate([u, m_], axis=1)

    hints = {
        "[u_1; m_1; m_2]: the second glimpse's reading was never added": cat(u_1, m),
        "u_2 = q + tanh(z_2 W_v + b_v): the first glimpse's update dropped, the query not accumulated":
            cat(q + np.tanh(z_2 @ W_v2 + b_v2), m),
        "u_2 = u_1 + tanh(z_1 W_v + b_v) with hop 2's W_v: the second update read with alpha_1":
            cat(u_1 + np.tanh(z_1 @ W_v2 + b_v2), m),
        "u_2 = u_1 + tanh(z_2 W_v + b_v) with hop 1's W_v and b_v (each glimpse has its own)":
            cat(u_1 + np.tanh(z_2 @ W_v + b_v), m),
        "m_k = mean_i alpha_ki = 1/L, the same for every question: the softmax weights sum to one whatever "
        "matched; m_k is the mean of sigmoid(e_ki), the raw scores": cat(u_2, np.full_like(m, 1.0 / L)),
        "m_k = sigmoid(mean_i e_ki): the sigmoid of the mean score, not the mean of the sigmoids":
            cat(u_2, 1.0 / (1.0 + np.exp(-e.mean(axis=2)))),
        "m_k = mean_i e_ki: the sigmoid is missing": cat(u_2, e.mean(axis=2)),
        "[m_1; m_2; u_2]: the right parts in the wrong order (the classifier reads [u_2; m_1; m_2])":
            np.concatenate([m, u_2], axis=1),
    }
    if not _compare(name, "x = [u_2; m_1; m_2]", x, x_want, hints):
        return False
    print(f"{name}: correct.")
    return True


def reference_optimal_baseline(p: np.ndarray, R: np.ndarray) -> float:
    """b* = E[R w] / E[w] with w = |e_s - p|^2 = 1 - 2 p_s + |p|^2: the constant baseline of least variance for the
    REINFORCE estimate (R_s - b)(e_s - p) of a softmax's logits."""
    p, R = np.asarray(p, dtype=float), np.asarray(R, dtype=float)
    w = 1.0 - 2.0 * p + (p ** 2).sum()
    return float((p * w * R).sum() / (p * w).sum())


def check_optimal_baseline(fn: Callable) -> bool:
    """Check ``fn(p (K,), R (K,)) -> b*``: the variance-minimising constant baseline of REINFORCE for a softmax."""
    name = "check_optimal_baseline"
    rng = np.random.default_rng(9)
    cases = []
    for K in (3, 6, 10):
        logits = rng.standard_normal(K) * 1.5
        cases.append((_softmax(logits, axis=0), rng.standard_normal(K) * 2 + 3.0))
    for k, (p, R) in enumerate(cases):
        ok, got = _call(name, fn, p.copy(), R.copy())
        if not ok:
            return False
        got = as_number(name, got, "one number (a float)")
        if got is None:
            return False
        want = reference_optimal_baseline(p, R)
        if np.isclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        print(f"{name}: case {k}: got {got:.6f}, expected {want:.6f}.")
        w = 1.0 - 2.0 * p + (p ** 2).sum()
        hints = {
            "the mean reward E[R]: a good baseline, but the variance weights each reward by |grad log p(s)|^2":
                float(p @ R),
            "the plain average of the rewards, without the probabilities p": float(R.mean()),
            "sum_s w_s R_s / sum_s w_s, without the probabilities p (the expectation is over s ~ p)":
                float((w * R).sum() / w.sum()),
            "a weight w_s = 1 - p_s (|e_s - p|^2 is 1 - 2 p_s + |p|^2)":
                float((p * (1 - p) * R).sum() / (p * (1 - p)).sum()),
            "E[R w] without dividing by E[w]": float((p * w * R).sum()),
        }
        for hint, value in hints.items():
            if np.isclose(got, value, rtol=1e-6, atol=1e-9):
                print(f"  hint: your value equals {hint}.")
        return False
    print(f"{name}: correct, b* = E[R |grad log p|^2] / E[|grad log p|^2].")
    return True
