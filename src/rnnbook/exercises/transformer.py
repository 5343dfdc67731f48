"""Checks for chapter 10b's exercises: the sinusoidal encoding's offset matrix, and the scale of the scores. Each
prints what is right or what is wrong (naming the likely mistake) and returns a bool; a template that still raises
``NotImplementedError`` gets a reminder."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from rnnbook.exercises.common import as_number, to_array
from rnnbook.exercises.common import call as _call
from rnnbook.models.self_attention import sinusoidal_positions


def _offset_reference(k: int, d: int, base: float = 10000.0) -> np.ndarray:
    """The (d, d) block-diagonal M_k with PE[t + k] = PE[t] M_k: one 2 x 2 rotation [[cos kw, -sin kw],
    [sin kw, cos kw]] per frequency w_i (row-vector convention, PE[t] = [..., sin t w_i, cos t w_i, ...])."""
    M = np.zeros((d, d))
    for i, w in enumerate(base ** (-np.arange(0, d, 2) / d)):
        c, s = math.cos(k * w), math.sin(k * w)
        M[2 * i: 2 * i + 2, 2 * i: 2 * i + 2] = [[c, -s], [s, c]]
    return M


def check_offset_matrix(fn: Callable[[int, int], np.ndarray]) -> bool:
    """Check ``fn(k, d) -> (d, d)``: a matrix M_k, the same for every position t, with PE[t + k] = PE[t] @ M_k for
    the sinusoidal encoding PE = ``sinusoidal_positions`` (base 10000)."""
    name = "check_offset_matrix"
    T = 60
    for k, d in ((1, 4), (3, 8), (10, 16)):
        pe = sinusoidal_positions(T + k, d).double().numpy()
        ok, got = _call(name, fn, k, d)
        if not ok:
            return False
        M = to_array(name, f"M for k={k}, d={d}", got)
        if M is None:
            return False
        if M.shape != (d, d):
            print(f"{name}: for k={k}, d={d} the matrix has shape {M.shape}, expected ({d}, {d}).")
            return False
        err = np.abs(pe[:T] @ M - pe[k:T + k]).max()
        if err < 1e-4:
            continue
        want = _offset_reference(k, d)
        print(f"{name}: for k={k}, d={d}, PE[t] @ M differs from PE[t + k] by up to {err:.3g}.")
        if np.allclose(M, want.T, atol=1e-6):
            print("  hint: your M is the transpose of the answer: it moves every position back by k (PE[t] @ M = "
                  "PE[t - k]). In the row-vector convention [sin a, cos a] @ R must give [sin(a+b), cos(a+b)].")
        elif np.allclose(np.abs(M), np.abs(want), atol=1e-6):
            print("  hint: the entries have the right size but a sign is wrong: expand sin(a + b) and cos(a + b).")
        elif np.abs(pe[:1] @ M - pe[k:k + 1]).max() < 1e-4:
            print("  hint: M works for t = 0 only: it must not depend on t (build it from k and the frequencies "
                  "alone, one 2 x 2 rotation per frequency).")
        elif np.allclose(M, _offset_reference(k, d, base=10000.0 ** 0.5), atol=1e-6) or np.allclose(
                M, np.kron(np.eye(d // 2), _offset_reference(k, 2)), atol=1e-6):
            print("  hint: each 2 x 2 block must turn by k w_i with its own frequency w_i = 10000^(-2i/d).")
        return False
    print(f"{name}: correct: PE[t + k] = PE[t] @ M_k for every t, with M_k built from k alone.")
    return True


SCALE_CASES = ((64, 1.0, 1.0), (16, 2.0, 1.0), (100, 0.5, 3.0), (8, 1.5, 1.5))


def check_score_scale(fn: Callable[[int, float, float], float]) -> bool:
    """Check ``fn(d_k, sigma_q, sigma_k) -> c``: the factor that gives c q . k unit variance when q and k have
    independent, mean-zero entries of standard deviations sigma_q and sigma_k (theory: 1 / (sqrt(d_k) sigma_q
    sigma_k))."""
    name = "check_score_scale"
    for d, sq, sk in SCALE_CASES:
        ok, got = _call(name, fn, d, sq, sk)
        if not ok:
            return False
        c = as_number(name, got, "the factor c (one number)")
        if c is None:
            return False
        want = 1 / (math.sqrt(d) * sq * sk)
        if math.isclose(c, want, rel_tol=1e-6):
            continue
        print(f"{name}: for d_k={d}, sigma_q={sq}, sigma_k={sk} you returned {c:.6g}, expected {want:.6g}.")
        hints = {"1/sqrt(d_k): the standard deviations of q and k are missing (each entry's product has variance "
                 "sigma_q^2 sigma_k^2)": 1 / math.sqrt(d),
                 "1/(d_k sigma_q^2 sigma_k^2), one over the variance: the scale multiplies the score, so it must be "
                 "one over the standard deviation": 1 / (d * sq**2 * sk**2),
                 "1/d_k: the variance of a sum of d_k independent terms is d_k times a term's, its standard "
                 "deviation only sqrt(d_k) times": 1 / d,
                 "sqrt(d_k) sigma_q sigma_k: the standard deviation itself, not its inverse": math.sqrt(d) * sq * sk,
                 "1/(sqrt(d_k) (sigma_q + sigma_k)): the variances of a product multiply, they do not add":
                     1 / (math.sqrt(d) * (sq + sk))}
        for hint, value in hints.items():
            if math.isclose(c, value, rel_tol=1e-6):
                print(f"  hint: your answer equals {hint}.")
                break
        return False
    gen = torch.Generator().manual_seed(0)
    q, k = 2.0 * torch.randn(20000, 16, generator=gen, dtype=torch.float64), torch.randn(20000, 16, generator=gen,
                                                                                         dtype=torch.float64)
    measured = float((fn(16, 2.0, 1.0) * (q * k).sum(-1)).var())
    print(f"{name}: correct; measured on 20,000 random pairs (d_k=16, sigma_q=2, sigma_k=1), the scaled scores have "
          f"variance {measured:.3f}.")
    return True
