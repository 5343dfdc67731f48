"""Checks for the attention chapter's exercises. Each prints what is right or what is wrong and where, and returns a
bool; an answer that still raises ``NotImplementedError`` (the template) gets a reminder, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.exercises.common import as_number
from rnnbook.exercises.common import call as _call
from rnnbook.exercises.common import returns_tuple as _returns_tuple
from rnnbook.exercises.common import compare as _compare


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


def check_soft_attention(fn: Callable) -> bool:
    """Check ``fn(a (N,L,D), h (N,H), W_a (D,A), W_h (H,A), b (A,), w (A,)) -> (z (N,D), alpha (N,L))``."""
    name = "check_soft_attention"
    a, h, W_a, W_h, b, w = _attention_inputs()
    ok, out = _call(name, fn, a, h, W_a, W_h, b, w)
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "the pair (z, alpha)"):
        return False
    z, alpha = out
    z_want, alpha_want = reference_soft_attention(a, h, W_a, W_h, b, w)
    e = np.tanh(a @ W_a + (h @ W_h + b)[:, None, :]) @ w
    hints = {
        "the raw scores e (softmax missing)": e,
        "a softmax over the batch instead of the locations": _softmax(e, axis=0),
        "the scores without tanh": _softmax((a @ W_a + (h @ W_h + b)[:, None, :]) @ w, axis=1),
        "the scores without the bias b": _softmax(np.tanh(a @ W_a + (h @ W_h)[:, None, :]) @ w, axis=1),
    }
    if not _compare(name, "alpha", alpha, alpha_want, hints):
        return False
    uniform = a.mean(axis=1)
    if not _compare(name, "z", z, z_want, {"the plain mean of a (attention ignored)": uniform}):
        return False
    print(f"{name}: correct.")
    return True


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


def check_glimpse(fn: Callable) -> bool:
    """Check ``fn(a (N,L,D), u (N,H), W_a (D,A), W_h (H,A), b (A,), w (A,), W_v (D,H), b_v (H,)) -> (u_next, alpha)``."""
    name = "check_glimpse"
    a, u, W_a, W_h, b, w = _attention_inputs(7)
    rng = np.random.default_rng(8)
    W_v, b_v = rng.standard_normal((a.shape[2], u.shape[1])), rng.standard_normal(u.shape[1])
    ok, out = _call(name, fn, a, u, W_a, W_h, b, w, W_v, b_v)
    if not ok:
        return False
    if not _returns_tuple(name, out, 2, "the pair (u_next, alpha)"):
        return False
    u_next, alpha = out
    u_want, alpha_want = reference_glimpse(a, u, W_a, W_h, b, w, W_v, b_v)
    hints = {"attention with tanh instead of relu": reference_soft_attention(a, u, W_a, W_h, b, w)[1]}
    if not _compare(name, "alpha", alpha, alpha_want, hints):
        return False
    z = np.einsum("nl,nld->nd", alpha_want, a)
    hints = {"tanh(z W_v + b_v) without adding u (the query is replaced, not refined)": np.tanh(z @ W_v + b_v),
             "u + z W_v + b_v without the tanh": u + z @ W_v + b_v}
    if _compare(name, "u_next", u_next, u_want, hints):
        print(f"{name}: correct.")
        return True
    return False


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
