"""Gradient flow through time: Jacobian products, vanishing and exploding gradients, and the LSTM's cell path.

The lecture's vanilla RNN (column vectors, as on the slide)::

    h_t = phi(a_t),   a_t = W_hh h_{t-1} + W_xh x_t          h_t: (H,), W_hh: (H, H), W_xh: (H, D)

Backpropagating from h_t to h_{t-1} multiplies by the step Jacobian

    J_t = dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh,

so the gradient of h_0 involves the product dh_T/dh_0 = J_T J_{T-1} ... J_1, with T factors of W_hh. Its norm is
bounded by ``prod_t ||diag(phi'(a_t))|| * sigma_max(W_hh) <= (gamma * sigma_max)^T`` (gamma = max |phi'|, 1 for
tanh): below 1 the gradient vanishes, and for a linear RNN whose W_hh has spectral radius sigma_max it grows or
shrinks exactly like sigma_max^T [Bengio et al. 1994; Pascanu et al. 2013].

The LSTM's cell state c_t = f * c_{t-1} + i * g has the direct path dc_t/dc_{t-1} = diag(f_t): no matrix, no
squashing, only the forget gates [Hochreiter & Schmidhuber 1997]. The same additive idea carries gradients through
deep feed-forward stacks: residual y = x + H(x) [He et al. 2016] and highway y = g * H(x) + (1 - g) * x
[Srivastava et al. 2015] (see ``rnnbook.models.highway``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from rnnbook.cells import TORCH_GATE_ORDER, lstm_update

Nonlinearity = Literal["linear", "tanh", "relu"]
NONLINEARITIES: tuple[str, ...] = ("linear", "tanh", "relu")
MatrixKind = Literal["orthogonal", "gaussian"]


def _check_nonlinearity(nonlinearity: str) -> None:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


# --------------------------------------------------------------------------------------------------------------
# The vanilla RNN: Jacobian products
# --------------------------------------------------------------------------------------------------------------


def recurrent_matrix(H: int, sigma_max: float, kind: MatrixKind = "orthogonal", seed: int = 0) -> np.ndarray:
    """A random W_hh (H, H) whose largest singular value is ``sigma_max``.

    ``"orthogonal"``: sigma_max * Q with Q a random orthogonal matrix; every singular value and the modulus of every
    eigenvalue equal sigma_max, so for a linear RNN ||W_hh^T|| = sigma_max^T exactly.
    ``"gaussian"``: N(0, 1/H) entries rescaled to the given sigma_max; its spectral radius is only about half of
    sigma_max, so sigma_max^T is then an upper bound, not the rate.
    """
    if H < 1:
        raise ValueError(f"H must be >= 1, got {H}")
    if not sigma_max > 0:
        raise ValueError(f"sigma_max must be > 0, got {sigma_max}")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((H, H))
    if kind == "orthogonal":
        Q, R = np.linalg.qr(A)
        Q = Q * np.sign(np.diag(R))  # Haar-distributed orthogonal matrix
        return sigma_max * Q
    if kind == "gaussian":
        return sigma_max * A / np.linalg.norm(A, 2)
    raise ValueError(f"kind must be 'orthogonal' or 'gaussian', got {kind!r}")


def rnn_states(Whh: np.ndarray, Wxh: np.ndarray, x: np.ndarray, h0: np.ndarray,
               nonlinearity: Nonlinearity = "tanh") -> np.ndarray:
    """Run h_t = phi(W_hh h_{t-1} + W_xh x_t) for t = 1..T; return the states h_0..h_T, shape (T + 1, H).

    Shapes: Whh (H, H), Wxh (H, D), x (T, D), h0 (H,).
    """
    _check_nonlinearity(nonlinearity)
    H = Whh.shape[0]
    if Whh.shape != (H, H) or Wxh.shape[0] != H or h0.shape != (H,) or x.ndim != 2 or x.shape[1] != Wxh.shape[1]:
        raise ValueError(f"expected Whh (H, H), Wxh (H, D), x (T, D), h0 (H,); got Whh {Whh.shape}, "
                         f"Wxh {Wxh.shape}, x {x.shape}, h0 {h0.shape}")
    phi = {"linear": lambda a: a, "tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0)}[nonlinearity]
    h = np.empty((x.shape[0] + 1, H))
    h[0] = h0
    for t in range(1, x.shape[0] + 1):
        h[t] = phi(Whh @ h[t - 1] + Wxh @ x[t - 1])
    return h


def nonlinearity_derivative(h: np.ndarray, nonlinearity: Nonlinearity) -> np.ndarray:
    """phi'(a_t) written with the output h_t = phi(a_t): 1 (linear), 1 - h_t^2 (tanh), [h_t > 0] (relu)."""
    _check_nonlinearity(nonlinearity)
    if nonlinearity == "linear":
        return np.ones_like(h)
    if nonlinearity == "tanh":
        return 1.0 - h**2
    return (h > 0).astype(h.dtype)


def step_jacobians(Whh: np.ndarray, h: np.ndarray, nonlinearity: Nonlinearity = "tanh") -> np.ndarray:
    """J_t = dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh for t = 1..T; shape (T, H, H). ``h`` are the states (T + 1, H)."""
    d = nonlinearity_derivative(h[1:], nonlinearity)  # (T, H)
    return d[:, :, None] * Whh[None, :, :]


def jacobian_products(Whh: np.ndarray, h: np.ndarray, nonlinearity: Nonlinearity = "tanh") -> np.ndarray:
    """P_t = dh_t/dh_0 = J_t J_{t-1} ... J_1 for t = 1..T; shape (T, H, H). ``h`` are the states (T + 1, H)."""
    J = step_jacobians(Whh, h, nonlinearity)
    P = np.empty_like(J)
    acc = np.eye(Whh.shape[0])
    for t in range(J.shape[0]):
        acc = J[t] @ acc
        P[t] = acc
    return P


def spectral_norms(P: np.ndarray) -> np.ndarray:
    """The largest singular value ||P_t||_2 of each matrix in a stack (T, H, H); shape (T,)."""
    return np.linalg.norm(P, ord=2, axis=(1, 2))


def fit_log_slope(norms: np.ndarray, start: int = 0) -> float:
    """Least-squares slope of log ||dh_t/dh_0|| against t (t = 1, 2, ...), ignoring the first ``start`` steps.

    For a linear RNN with a scaled orthogonal W_hh the slope is log sigma_max: norms ~ sigma_max^t.
    """
    norms = np.asarray(norms, dtype=float)
    t = np.arange(1, len(norms) + 1)[start:]
    y = norms[start:]
    if len(y) < 2:
        raise ValueError(f"need at least 2 norms after start={start}, got {len(y)}")
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise ValueError("the norms must be finite and > 0 to fit a slope of their logarithm; "
                         "shorten T or move sigma_max towards 1 (the product under- or overflowed)")
    return float(np.polyfit(t, np.log(y), 1)[0])


@dataclass
class GradientFlow:
    """One measured run of a vanilla RNN: ||dh_t/dh_0|| for t = 1..T, and two upper bounds.

    ``bound`` = sigma_max^t (the lecture's bound, gamma = 1 for linear, tanh and relu); ``tight_bound`` =
    prod_s max_i |phi'(a_s)_i| * sigma_max, which uses the measured derivatives of the nonlinearity.
    """

    sigma_max: float
    nonlinearity: str
    norms: np.ndarray
    bound: np.ndarray
    tight_bound: np.ndarray
    states: np.ndarray

    @property
    def T(self) -> int:
        return len(self.norms)

    @property
    def slope(self) -> float:
        """Fitted slope of log ||dh_t/dh_0|| per step (finite, positive norms only)."""
        ok = np.isfinite(self.norms) & (self.norms > 0)
        return fit_log_slope(self.norms[ok]) if ok.sum() >= 2 else float("nan")


def rnn_gradient_flow(sigma_max: float, nonlinearity: Nonlinearity = "tanh", T: int = 100, H: int = 32,
                      D: int = 8, input_scale: float = 1.0, kind: MatrixKind = "orthogonal",
                      seed: int = 0) -> GradientFlow:
    """Measure ||dh_t/dh_0||_2 for t = 1..T of a vanilla RNN whose W_hh has largest singular value ``sigma_max``.

    Inputs x_t ~ N(0, 1) (D,), W_xh ~ N(0, input_scale^2 / D) (H, D), h_0 ~ N(0, 1/H) (H,), all from ``seed``.
    """
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    rng = np.random.default_rng(seed + 1)
    Whh = recurrent_matrix(H, sigma_max, kind, seed)
    Wxh = input_scale * rng.standard_normal((H, D)) / np.sqrt(D)
    x = rng.standard_normal((T, D))
    h0 = rng.standard_normal(H) / np.sqrt(H)
    h = rnn_states(Whh, Wxh, x, h0, nonlinearity)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        norms = spectral_norms(jacobian_products(Whh, h, nonlinearity))
        t = np.arange(1, T + 1)
        bound = float(sigma_max) ** t
        gamma = nonlinearity_derivative(h[1:], nonlinearity).max(axis=1)
        tight = np.cumprod(gamma * sigma_max)
    return GradientFlow(float(sigma_max), nonlinearity, norms, bound, tight, h)


# --------------------------------------------------------------------------------------------------------------
# The LSTM: gates, the cell path, forget-gate bias
# --------------------------------------------------------------------------------------------------------------


def set_forget_gate_bias(lstm: nn.LSTM, value: float) -> nn.LSTM:
    """Make the forget gate's total bias equal ``value`` in every layer of a ``torch.nn.LSTM``; return it.

    PyTorch stacks the gates as (i, f, g, o) along the rows of ``weight_ih_l{k}`` and adds two biases,
    ``bias_ih_l{k} + bias_hh_l{k}``; rows H:2H of both belong to f. This sets the first to ``value`` and the
    second to 0, so f = sigmoid(... + value). The other gates are left as they were.
    """
    if not isinstance(lstm, nn.LSTM):
        raise ValueError(f"expected a torch.nn.LSTM, got {type(lstm).__name__}")
    if not lstm.bias:
        raise ValueError("this LSTM was built with bias=False, so it has no forget-gate bias to set")
    H = lstm.hidden_size
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            if name.startswith("bias_ih"):
                p[H:2 * H] = value
            elif name.startswith("bias_hh"):
                p[H:2 * H] = 0.0
    return lstm


def forget_gate_bias(lstm: nn.LSTM, layer: int = 0) -> torch.Tensor:
    """The forget gate's total bias (H,) of one layer: ``bias_ih[H:2H] + bias_hh[H:2H]``."""
    H = lstm.hidden_size
    return (getattr(lstm, f"bias_ih_l{layer}")[H:2 * H] + getattr(lstm, f"bias_hh_l{layer}")[H:2 * H]).detach()


@dataclass
class LSTMTrace:
    """Every step of a one-layer LSTM, each (T, B, H): the gates i, f, g, o and the states c_t, h_t (t = 1..T)."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor
    c: torch.Tensor
    h: torch.Tensor


def lstm_trace(lstm: nn.LSTM, x: torch.Tensor, h0: torch.Tensor | None = None,
               c0: torch.Tensor | None = None) -> LSTMTrace:
    """Run a one-layer ``torch.nn.LSTM`` step by step from its own weights and keep the gates
    (``rnnbook.cells.lstm_update`` in torch's gate order i, f, g, o):

        (i, f, g, o) = (sigma, sigma, tanh, sigma)(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    ``x`` is (B, T, D) when ``lstm.batch_first`` else (T, B, D); h0, c0 are (B, H) (zeros when None). The results
    are (T, B, H) and agree with ``lstm(x)``. Differentiable in x, h0 and c0 (so it works with torch.func).
    """
    if not isinstance(lstm, nn.LSTM) or lstm.num_layers != 1 or lstm.bidirectional or lstm.proj_size:
        raise ValueError("lstm_trace expects a one-layer, one-directional torch.nn.LSTM without projection")
    if x.ndim != 3 or x.shape[-1] != lstm.input_size:
        raise ValueError(f"x must be 3-D with {lstm.input_size} features last, got shape {tuple(x.shape)}")
    xs = x.transpose(0, 1) if lstm.batch_first else x  # (T, B, D)
    B, H = xs.shape[1], lstm.hidden_size
    h = xs.new_zeros(B, H) if h0 is None else h0
    c = xs.new_zeros(B, H) if c0 is None else c0
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0) if lstm.bias else xs.new_zeros(4 * H)
    ax = xs @ lstm.weight_ih_l0.T + b  # (T, B, 4H): the input part of every step at once
    out: dict[str, list[torch.Tensor]] = {k: [] for k in "ifgoch"}
    for ax_t in ax:
        h, c, (i, f, g, o) = lstm_update(ax_t + h @ lstm.weight_hh_l0.T, c, TORCH_GATE_ORDER)
        for k, v in zip("ifgoch", (i, f, g, o, c, h)):
            out[k].append(v)
    return LSTMTrace(**{k: torch.stack(v) for k, v in out.items()})


def cell_path_products(f: torch.Tensor) -> torch.Tensor:
    """The cell path's dc_t/dc_0 = diag(f_t * f_{t-1} * ... * f_1), as its diagonal: cumprod of f (T, ...) over t."""
    return torch.cumprod(f, dim=0)


def lstm_step_jacobians(lstm: nn.LSTM, x: torch.Tensor, h0: torch.Tensor | None = None,
                        c0: torch.Tensor | None = None) -> torch.Tensor:
    """The step Jacobians M_t = d(h_t, c_t)/d(h_{t-1}, c_{t-1}), shape (T, 2H, 2H), of one sequence x (T, D).

    With W_hh split by gate into Wi, Wf, Wg, Wo (each (H, H)) and the gates of step t::

        dc_t/dc_{t-1} = diag(f)                                   the direct (cell) path
        dc_t/dh_{t-1} = diag(c_{t-1} f(1-f)) Wf + diag(g i(1-i)) Wi + diag(i (1-g^2)) Wg
        dh_t/dc_{t-1} = diag(o (1 - tanh^2 c_t)) dc_t/dc_{t-1}
        dh_t/dh_{t-1} = diag(tanh(c_t) o(1-o)) Wo + diag(o (1 - tanh^2 c_t)) dc_t/dh_{t-1}

    Rows and columns are ordered (h, c). Computed in float64 from ``lstm_trace``.
    """
    if x.ndim != 2:
        raise ValueError(f"x must be one sequence (T, D), got shape {tuple(x.shape)}")
    H = lstm.hidden_size
    h0 = x.new_zeros(1, H) if h0 is None else h0.reshape(1, H)
    c0 = x.new_zeros(1, H) if c0 is None else c0.reshape(1, H)
    with torch.no_grad():
        tr = lstm_trace(lstm, x[None] if lstm.batch_first else x[:, None], h0, c0)
        i, f, g, o, c = (v[:, 0].double() for v in (tr.i, tr.f, tr.g, tr.o, tr.c))
        c_prev = torch.cat([c0.double(), c[:-1]])
        Wi, Wf, Wg, Wo = lstm.weight_hh_l0.detach().double().split(H)
        tanh_c = torch.tanh(c)
        dc_dh = ((c_prev * f * (1 - f))[..., None] * Wf + (g * i * (1 - i))[..., None] * Wi
                 + (i * (1 - g**2))[..., None] * Wg)
        k = o * (1 - tanh_c**2)
        dh_dh = (tanh_c * o * (1 - o))[..., None] * Wo + k[..., None] * dc_dh
        top = torch.cat([dh_dh, torch.diag_embed(k * f)], dim=2)
        bottom = torch.cat([dc_dh, torch.diag_embed(f)], dim=2)
        return torch.cat([top, bottom], dim=1)


def cell_state_jacobians(lstm: nn.LSTM, x: torch.Tensor, h0: torch.Tensor | None = None,
                         c0: torch.Tensor | None = None) -> torch.Tensor:
    """The full dc_t/dc_0 (T, H, H) for one sequence x (T, D), through every path (cell and gates), in float64.

    The lower-right block of M_t M_{t-1} ... M_1 (see ``lstm_step_jacobians``). Along the cell path alone it would
    be diag(f_t ... f_1) (``cell_path_products``); the gates add the paths through h_{t-1}.
    """
    M = lstm_step_jacobians(lstm, x, h0, c0)
    H = lstm.hidden_size
    P = torch.eye(2 * H, dtype=M.dtype)
    out = torch.empty(M.shape[0], H, H, dtype=M.dtype)
    for t in range(M.shape[0]):
        P = M[t] @ P
        out[t] = P[H:, H:]
    return out


def input_gradient_norms(model: nn.Module, x: torch.Tensor, seed: int = 0) -> np.ndarray:
    """||dL/dx_{T-k}|| by lag k = 0..T-1 for L = u . h_T (u a fixed random unit vector), mean over the batch.

    ``model`` is a batch-first ``torch.nn.RNN``/``LSTM``/``GRU`` (anything returning ``(outputs, state)`` with
    outputs (B, T, H)); ``x`` is (B, T, D). Entry k says how strongly the input k steps before the end still moves
    the loss: the gradient that reaches back k steps in time.
    """
    if x.ndim != 3:
        raise ValueError(f"x must be (B, T, D), got shape {tuple(x.shape)}")
    if not getattr(model, "batch_first", True):
        raise ValueError("build the model with batch_first=True so that x is (B, T, D)")
    x = x.detach().clone().requires_grad_(True)
    out, _ = model(x)
    u = torch.randn(out.shape[-1], generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    u = (u / u.norm()).to(out.device)
    (out[:, -1] @ u).sum().backward()
    norms = x.grad.norm(dim=2).mean(dim=0)  # (T,)
    return norms.flip(0).cpu().numpy().astype(np.float64)


# --------------------------------------------------------------------------------------------------------------
# Depth: plain, residual and highway stacks
# --------------------------------------------------------------------------------------------------------------


def layer_gradient_norms(layers: nn.ModuleList | list[nn.Module], x: torch.Tensor, seed: int = 0) -> np.ndarray:
    """||dL/dh_l|| for the input h_0 = x and the output h_l of every layer l = 1..L, with L = u . mean_b h_L.

    Returns (L + 1,): entry l is the mean over the batch of the gradient's norm at layer l's output (0 = input).
    """
    h = x.detach().clone().requires_grad_(True)
    hs = [h]
    for layer in layers:
        h = layer(h)
        h.retain_grad()
        hs.append(h)
    u = torch.randn(h.shape[-1], generator=torch.Generator().manual_seed(seed), dtype=h.dtype)
    (h @ (u / u.norm()).to(h.device)).mean().backward()
    return np.array([float(a.grad.norm(dim=-1).mean()) for a in hs])


# --------------------------------------------------------------------------------------------------------------
# Training: the gradient norm before clipping
# --------------------------------------------------------------------------------------------------------------


@contextmanager
def record_gradient_norms(model: nn.Module) -> Iterator[list[float]]:
    """Within the block, append the global gradient norm of ``model`` after every backward pass (before clipping).

    Works through hooks, so it sees the raw gradient that ``rnnbook.train.fit`` clips afterwards. A norm is recorded
    once every parameter has received its gradient, so every parameter must take part in the loss::

        with record_gradient_norms(model) as norms:
            fit(model, step_loss, steps, clip_norm=1.0)
    """
    params = [p for p in model.parameters() if p.requires_grad]
    norms: list[float] = []
    pending: dict[int, float] = {}

    def hook(index: int):
        def fn(grad: torch.Tensor) -> None:
            pending[index] = float(grad.detach().double().pow(2).sum())
            if len(pending) == len(params):
                norms.append(float(np.sqrt(sum(pending.values()))))
                pending.clear()
        return fn

    handles = [p.register_hook(hook(k)) for k, p in enumerate(params)]
    try:
        yield norms
    finally:
        for handle in handles:
            handle.remove()
