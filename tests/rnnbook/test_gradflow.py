"""Tests of rnnbook.gradflow, rnnbook.models.highway, rnnbook.viz.gradflow and rnnbook.exercises.gradflow.

References are independent: torch.nn.RNN / torch.nn.LSTM forward passes, torch.func Jacobians, closed forms.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from rnnbook import gradflow as gf  # noqa: E402
from rnnbook.models.highway import Highway, deep_stack  # noqa: E402
from rnnbook.train import clip_gradients  # noqa: E402


def _torch_rnn(Whh: np.ndarray, Wxh: np.ndarray, nonlinearity: str) -> nn.RNN:
    H, D = Wxh.shape
    rnn = nn.RNN(D, H, nonlinearity=nonlinearity, bias=False, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.as_tensor(Whh))
        rnn.weight_ih_l0.copy_(torch.as_tensor(Wxh))
    return rnn


def _small_problem(seed: int = 0, H: int = 6, D: int = 3, T: int = 7, sigma: float = 1.1):
    rng = np.random.default_rng(seed)
    Whh = gf.recurrent_matrix(H, sigma, "gaussian", seed=seed)
    return Whh, rng.standard_normal((H, D)), rng.standard_normal((T, D)), rng.standard_normal(H) * 0.5


# ---------------------------------------------------------------- the vanilla RNN


@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
def test_recurrent_matrix_has_the_asked_largest_singular_value(kind):
    W = gf.recurrent_matrix(20, 1.3, kind, seed=3)
    s = np.linalg.svd(W, compute_uv=False)
    assert s.max() == pytest.approx(1.3, rel=1e-12)
    if kind == "orthogonal":
        np.testing.assert_allclose(s, 1.3, rtol=1e-12)
        np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), 1.3, rtol=1e-9)
    else:
        assert np.abs(np.linalg.eigvals(W)).max() < 0.9 * 1.3  # spectral radius well below sigma_max


def test_recurrent_matrix_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sigma_max"):
        gf.recurrent_matrix(4, 0.0)
    with pytest.raises(ValueError, match="kind"):
        gf.recurrent_matrix(4, 1.0, "uniform")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_states_match_torch_rnn(nonlinearity):
    Whh, Wxh, x, h0 = _small_problem()
    h = gf.rnn_states(Whh, Wxh, x, h0, nonlinearity)
    out, _ = _torch_rnn(Whh, Wxh, nonlinearity)(torch.as_tensor(x), torch.as_tensor(h0)[None])
    np.testing.assert_allclose(h[1:], out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(h[0], h0)


def test_rnn_states_rejects_wrong_shapes():
    Whh, Wxh, x, h0 = _small_problem()
    with pytest.raises(ValueError, match="expected Whh"):
        gf.rnn_states(Whh, Wxh, x.T, h0)
    with pytest.raises(ValueError, match="nonlinearity"):
        gf.rnn_states(Whh, Wxh, x, h0, "sigmoid")


@pytest.mark.parametrize("nonlinearity", ["linear", "tanh", "relu"])
def test_jacobian_products_match_autograd(nonlinearity):
    Whh, Wxh, x, h0 = _small_problem(seed=1)
    h = gf.rnn_states(Whh, Wxh, x, h0, nonlinearity)
    P = gf.jacobian_products(Whh, h, nonlinearity)
    phi = {"linear": lambda a: a, "tanh": torch.tanh, "relu": torch.relu}[nonlinearity]
    W, U, X = (torch.as_tensor(a) for a in (Whh, Wxh, x))

    def states(h_start: torch.Tensor) -> torch.Tensor:
        hs, hh = [], h_start
        for t in range(X.shape[0]):
            hh = phi(W @ hh + U @ X[t])
            hs.append(hh)
        return torch.stack(hs)

    want = torch.func.jacrev(states)(torch.as_tensor(h0)).numpy()  # (T, H, H)
    np.testing.assert_allclose(P, want, rtol=1e-10, atol=1e-12)


def test_linear_rnn_with_orthogonal_whh_follows_sigma_to_the_t():
    for sigma in (0.8, 1.0, 1.25):
        flow = gf.rnn_gradient_flow(sigma, "linear", T=40, H=16)
        np.testing.assert_allclose(flow.norms, sigma ** np.arange(1, 41), rtol=1e-9)
        assert flow.slope == pytest.approx(np.log(sigma), abs=1e-9)


def test_gaussian_linear_slope_is_the_log_spectral_radius_not_log_sigma_max():
    sigma, H = 1.1, 32
    flow = gf.rnn_gradient_flow(sigma, "linear", T=150, H=H, kind="gaussian", seed=2)
    rho = np.abs(np.linalg.eigvals(gf.recurrent_matrix(H, sigma, "gaussian", seed=2))).max()
    assert flow.slope == pytest.approx(np.log(rho), abs=0.02)
    assert flow.slope < np.log(sigma) - 0.2


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("sigma", [0.9, 1.3])
def test_measured_norms_respect_both_bounds(nonlinearity, sigma):
    flow = gf.rnn_gradient_flow(sigma, nonlinearity, T=60)
    assert np.all(flow.norms <= flow.tight_bound * (1 + 1e-9))
    assert np.all(flow.tight_bound <= flow.bound * (1 + 1e-9))


def test_fit_log_slope_recovers_a_geometric_rate_and_rejects_zeros():
    assert gf.fit_log_slope(3.0 * 0.7 ** np.arange(1, 30)) == pytest.approx(np.log(0.7), rel=1e-12)
    with pytest.raises(ValueError, match="finite"):
        gf.fit_log_slope(np.array([1.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match="at least 2"):
        gf.fit_log_slope(np.array([1.0]))


# ---------------------------------------------------------------- the LSTM


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_trace_matches_torch_lstm(batch_first):
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, batch_first=batch_first)
    x = torch.randn((2, 7, 3) if batch_first else (7, 2, 3))
    h0, c0 = torch.randn(1, 2, 5), torch.randn(1, 2, 5)
    out, (hT, cT) = lstm(x, (h0, c0))
    tr = gf.lstm_trace(lstm, x, h0[0], c0[0])
    torch.testing.assert_close(tr.h, out.transpose(0, 1) if batch_first else out, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(tr.c[-1], cT[0], rtol=1e-5, atol=1e-6)
    assert tr.f.shape == (7, 2, 5) and bool(((tr.f > 0) & (tr.f < 1)).all())


def test_lstm_trace_rejects_stacked_lstms():
    with pytest.raises(ValueError, match="one-layer"):
        gf.lstm_trace(nn.LSTM(3, 4, num_layers=2), torch.randn(5, 1, 3))


def test_cell_jacobian_is_the_forget_gate_product_when_whh_is_zero():
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4)
    with torch.no_grad():
        lstm.weight_hh_l0.zero_()
    x = torch.randn(9, 3)
    J = gf.cell_state_jacobians(lstm, x)
    f = gf.lstm_trace(lstm, x[:, None]).f[:, 0]
    prods = gf.cell_path_products(f)
    torch.testing.assert_close(J, torch.diag_embed(prods).double(), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(prods[-1], f.prod(dim=0))


def test_cell_jacobians_match_forward_and_reverse_mode_autograd():
    torch.manual_seed(2)
    lstm = nn.LSTM(3, 4, dtype=torch.float64)
    x, h0, c0 = torch.randn(6, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    J = gf.cell_state_jacobians(lstm, x, h0=h0, c0=c0)

    def states(hc: torch.Tensor) -> torch.Tensor:  # (h_0, c_0) -> (h_t, c_t) for every t, (T, 2H)
        tr = gf.lstm_trace(lstm, x[:, None], hc[None, :4], hc[None, 4:])
        return torch.cat([tr.h[:, 0], tr.c[:, 0]], dim=1)

    full = torch.func.jacfwd(states)(torch.cat([h0, c0]))  # (T, 2H, 2H)
    torch.testing.assert_close(J, full[:, 4:, 4:].detach(), rtol=1e-10, atol=1e-12)
    M = gf.lstm_step_jacobians(lstm, x, h0, c0)
    torch.testing.assert_close(M[0], full[0].detach(), rtol=1e-10, atol=1e-12)

    def last_cell(c: torch.Tensor) -> torch.Tensor:
        return gf.lstm_trace(lstm, x[:, None], h0[None], c[None]).c[-1, 0]

    torch.testing.assert_close(J[-1], torch.autograd.functional.jacobian(last_cell, c0), rtol=1e-10, atol=1e-12)


def test_set_forget_gate_bias_sets_the_total_and_nothing_else():
    torch.manual_seed(3)
    lstm = nn.LSTM(3, 4, num_layers=2)
    before = {k: v.clone() for k, v in lstm.state_dict().items()}
    gf.set_forget_gate_bias(lstm, 1.5)
    for layer in range(2):
        torch.testing.assert_close(gf.forget_gate_bias(lstm, layer), torch.full((4,), 1.5))
        tot = lstm.state_dict()[f"bias_ih_l{layer}"] + lstm.state_dict()[f"bias_hh_l{layer}"]
        old = before[f"bias_ih_l{layer}"] + before[f"bias_hh_l{layer}"]
        torch.testing.assert_close(tot[:4], old[:4])
        torch.testing.assert_close(tot[8:], old[8:])
    # the gate really is the forget gate: a huge bias makes f = 1
    gf.set_forget_gate_bias(lstm, 50.0)
    single = nn.LSTM(3, 4)
    gf.set_forget_gate_bias(single, 50.0)
    assert torch.allclose(gf.lstm_trace(single, torch.randn(5, 2, 3)).f, torch.ones(5, 2, 4))
    with pytest.raises(ValueError, match="torch.nn.LSTM"):
        gf.set_forget_gate_bias(nn.GRU(3, 4), 1.0)


def test_input_gradient_norms_match_a_hand_computed_gradient():
    torch.manual_seed(4)
    rnn = nn.RNN(2, 3, batch_first=True)
    x = torch.randn(2, 5, 2)
    norms = gf.input_gradient_norms(rnn, x, seed=9)
    u = torch.randn(3, generator=torch.Generator().manual_seed(9))
    u = u / u.norm()
    want = []
    for k in range(5):
        per_example = []
        for b in range(2):
            xb = x[b:b + 1].clone().requires_grad_(True)
            (rnn(xb)[0][0, -1] @ u).backward()
            per_example.append(float(xb.grad[0, 4 - k].norm()))
        want.append(np.mean(per_example))
    np.testing.assert_allclose(norms, want, rtol=1e-5)
    with pytest.raises(ValueError, match="batch_first"):
        gf.input_gradient_norms(nn.RNN(2, 3), x)


def test_lstm_with_forget_bias_one_keeps_gradients_the_rnn_loses():
    torch.manual_seed(5)
    x = torch.randn(4, 60, 4)
    rnn, lstm = nn.RNN(4, 32, batch_first=True), nn.LSTM(4, 32, batch_first=True)
    gf.set_forget_gate_bias(lstm, 1.0)
    r, l = gf.input_gradient_norms(rnn, x), gf.input_gradient_norms(lstm, x)
    assert l[50] > 1e3 * r[50]


def test_layer_gradient_norms_match_torch_func_and_identity_limit():
    torch.manual_seed(7)
    layers = deep_stack("plain", 4, 6)
    x = torch.randn(3, 6)
    norms = gf.layer_gradient_norms(layers, x, seed=1)
    u = torch.randn(6, generator=torch.Generator().manual_seed(1))
    u = u / u.norm()

    def loss_from(l: int):
        def f(h):
            for layer in list(layers)[l:]:
                h = layer(h)
            return (h @ u).mean()
        return f

    h, want = x, []
    for l in range(5):
        want.append(float(torch.func.grad(loss_from(l))(h).detach().norm(dim=-1).mean()))
        if l < 4:
            h = layers[l](h).detach()
    np.testing.assert_allclose(norms, want, rtol=1e-5)
    # a highway stack that only carries passes the gradient on unchanged: 1/B at every layer
    carry = nn.ModuleList(Highway(6, gate_bias=-60.0) for _ in range(5))
    np.testing.assert_allclose(gf.layer_gradient_norms(carry, x), 1 / 3, rtol=1e-5)


def test_deep_stack_plain_vanishes_and_residual_does_not():
    torch.manual_seed(8)
    x = torch.randn(16, 32)
    plain = gf.layer_gradient_norms(deep_stack("plain", 30, 32), x)
    res = gf.layer_gradient_norms(deep_stack("residual", 30, 32), x)
    assert plain[0] < 1e-4 * plain[-1]
    assert res[0] > res[-1]
    with pytest.raises(ValueError, match="kind"):
        deep_stack("dense", 3, 4)


# ---------------------------------------------------------------- training


def test_record_gradient_norms_sees_the_norm_before_clipping():
    torch.manual_seed(9)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    with gf.record_gradient_norms(model) as norms:
        for _ in range(2):
            model.zero_grad()
            (model(torch.randn(5, 3)) * 100).sum().backward()
            before = clip_gradients(model, clip_norm=0.1)
            assert norms[-1] == pytest.approx(before, rel=1e-5)
    assert len(norms) == 2
    model.zero_grad()
    model(torch.randn(5, 3)).sum().backward()  # hooks removed after the block
    assert len(norms) == 2
