"""The PyTorch cells against torch.nn.LSTM / torch.nn.GRU, the numpy LSTM, the papers' equations written out with
named matrices, and numerical gradients; the runner."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnbook.cells import (
    CELLS,
    TORCH_GATE_ORDER,
    GRUCell,
    LSTMCell,
    MUTCell,
    RNNCell,
    StackedRNN,
    copy_from_torch,
    count_parameters,
    lstm_gates,
    lstm_update,
    make_cell,
)
from rnnbook.numpy_nn.lstm import lstm_forward

F64 = torch.float64


sig, tanh = torch.sigmoid, torch.tanh


def _inputs(N=3, T=6, D=4, H=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(N, T, D, generator=g, dtype=F64), torch.randn(N, H, generator=g, dtype=F64) * 0.5


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_equals_torch_lstm_outputs_states_and_gradients(layers):
    torch.manual_seed(0)
    D, H = 4, 5
    ref = torch.nn.LSTM(D, H, num_layers=layers, batch_first=True).double()
    mine = copy_from_torch(StackedRNN.of("lstm", D, H, layers).double(), ref)
    x, _ = _inputs(D=D, H=H)
    h0 = torch.randn(layers, 3, H, dtype=F64)
    c0 = torch.randn(layers, 3, H, dtype=F64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, (hn, cn) = ref(x1, (h0, c0))
    out, finals = mine(x2, [(h0[l], c0[l]) for l in range(layers)])
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-10)
    for l in range(layers):
        torch.testing.assert_close(finals[l][0], hn[l], rtol=0, atol=1e-10)
        torch.testing.assert_close(finals[l][1], cn[l], rtol=0, atol=1e-10)
    weights = torch.randn_like(out)
    ((out_ref * weights).sum() + cn.sum()).backward()
    ((out * weights).sum() + sum(f[1].sum() for f in finals)).backward()
    torch.testing.assert_close(x2.grad, x1.grad, rtol=0, atol=1e-10)
    order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    for l, cell in enumerate(mine.cells):
        torch.testing.assert_close(cell.Wx.grad, getattr(ref, f"weight_ih_l{l}").grad[order].T, rtol=0, atol=1e-10)
        torch.testing.assert_close(cell.Wh.grad, getattr(ref, f"weight_hh_l{l}").grad[order].T, rtol=0, atol=1e-10)
        torch.testing.assert_close(cell.b.grad, getattr(ref, f"bias_ih_l{l}").grad[order], rtol=0, atol=1e-10)


@pytest.mark.parametrize("layers", [1, 2])
def test_gru_reset_after_equals_torch_gru_outputs_and_gradients(layers):
    torch.manual_seed(1)
    D, H = 4, 5
    ref = torch.nn.GRU(D, H, num_layers=layers, batch_first=True).double()
    mine = copy_from_torch(StackedRNN.of("gru", D, H, layers, reset_after=True).double(), ref)
    x, _ = _inputs(D=D, H=H, seed=1)
    h0 = torch.randn(layers, 3, H, dtype=F64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, hn = ref(x1, h0)
    out, finals = mine(x2, [(h0[l],) for l in range(layers)])
    torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-10)
    for l in range(layers):
        torch.testing.assert_close(finals[l][0], hn[l], rtol=0, atol=1e-10)
    weights = torch.randn_like(out)
    (out_ref * weights).sum().backward()
    (out * weights).sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad, rtol=0, atol=1e-10)
    for l, cell in enumerate(mine.cells):
        torch.testing.assert_close(cell.Wx.grad, getattr(ref, f"weight_ih_l{l}").grad.T, rtol=0, atol=1e-10)
        torch.testing.assert_close(cell.Wh.grad, getattr(ref, f"weight_hh_l{l}").grad.T, rtol=0, atol=1e-10)
        torch.testing.assert_close(cell.b.grad, getattr(ref, f"bias_ih_l{l}").grad, rtol=0, atol=1e-10)
        torch.testing.assert_close(cell.bh.grad, getattr(ref, f"bias_hh_l{l}").grad, rtol=0, atol=1e-10)


def test_lstm_cell_equals_the_numpy_layer():
    """Same layout (Wx, Wh, b; blocks i, f, o, g) as rnnbook.numpy_nn.lstm: the two implementations agree."""
    torch.manual_seed(2)
    cell = LSTMCell(4, 5, forget_bias=1.0).double()
    x, h0 = _inputs()
    out, _ = StackedRNN([cell])(x, [(h0, torch.zeros_like(h0))])
    h_np, _ = lstm_forward(x.numpy(), h0.numpy(), cell.Wx.detach().numpy(), cell.Wh.detach().numpy(),
                           cell.b.detach().numpy())
    np.testing.assert_allclose(out.detach().numpy(), h_np, rtol=0, atol=1e-12)


def _blocks(W, H):
    return [W[..., k * H:(k + 1) * H] for k in range(W.shape[-1] // H)]


def _one_step(cell, x, h, c=None):
    return cell(x, (h,) if c is None else (h, c))


def test_rnn_cell_step():
    cell = RNNCell(4, 5).double()
    x, h = _inputs()
    got, _ = _one_step(cell, x[:, 0], h)
    torch.testing.assert_close(got, tanh(x[:, 0] @ cell.Wx + h @ cell.Wh + cell.b), rtol=0, atol=1e-12)


def test_gru_cell_follows_the_slide():
    cell = GRUCell(4, 5).double()
    x, h = _inputs()
    x = x[:, 0]
    W_xr, W_xz, W_xh = _blocks(cell.Wx, 5)
    W_hr, W_hz, W_hh = _blocks(cell.Wh, 5)
    b_r, b_z, b_h = _blocks(cell.b, 5)
    r = sig(x @ W_xr + h @ W_hr + b_r)
    z = sig(x @ W_xz + h @ W_hz + b_z)
    h_tilde = tanh(x @ W_xh + (r * h) @ W_hh + b_h)
    got, _ = _one_step(cell, x, h)
    torch.testing.assert_close(got, z * h + (1 - z) * h_tilde, rtol=0, atol=1e-12)


def test_gru_forms_differ_only_by_where_the_reset_acts():
    """With r = 1 (large reset bias) and no recurrent bias, the slide's GRU and torch's form agree."""
    a, b = GRUCell(4, 5).double(), GRUCell(4, 5, reset_after=True).double()
    with torch.no_grad():
        b.Wx.copy_(a.Wx)
        b.Wh.copy_(a.Wh)
        a.b[:5] = 60.0
        b.b.copy_(a.b)
        b.bh.zero_()
    x, h = _inputs()
    torch.testing.assert_close(_one_step(a, x[:, 0], h)[0], _one_step(b, x[:, 0], h)[0], rtol=0, atol=1e-12)
    with torch.no_grad():
        a.b[:5] = 0.0
        b.b[:5] = 0.0
    assert not torch.allclose(_one_step(a, x[:, 0], h)[0], _one_step(b, x[:, 0], h)[0])


@pytest.mark.parametrize("variant", [1, 2, 3])
def test_mut_cells_follow_jozefowicz_et_al(variant):
    H = 5
    cell = MUTCell(H, H, variant).double()
    x, h = _inputs(D=H, H=H)
    x = x[:, 0]
    b_z, b_r, b_h = _blocks(cell.b, H)
    if variant == 1:
        W_xz, W_xr = _blocks(cell.Wx, H)
        W_hr, W_hh = _blocks(cell.Wh, H)
        z = sig(x @ W_xz + b_z)
        r = sig(x @ W_xr + h @ W_hr + b_r)
        new = tanh((r * h) @ W_hh + tanh(x) + b_h)
    elif variant == 2:
        W_xz, W_xh = _blocks(cell.Wx, H)
        W_hz, W_hr, W_hh = _blocks(cell.Wh, H)
        z = sig(x @ W_xz + h @ W_hz + b_z)
        r = sig(x + h @ W_hr + b_r)
        new = tanh((r * h) @ W_hh + x @ W_xh + b_h)
    else:
        W_xz, W_xr, W_xh = _blocks(cell.Wx, H)
        W_hz, W_hr, W_hh = _blocks(cell.Wh, H)
        z = sig(x @ W_xz + tanh(h) @ W_hz + b_z)
        r = sig(x @ W_xr + h @ W_hr + b_r)
        new = tanh((r * h) @ W_hh + x @ W_xh + b_h)
    got, _ = _one_step(cell, x, h)
    torch.testing.assert_close(got, new * z + h * (1 - z), rtol=0, atol=1e-12)


def test_mut1_and_mut2_need_square_inputs():
    with pytest.raises(ValueError, match="input_size == hidden_size"):
        MUTCell(3, 5, 1)
    with pytest.raises(ValueError, match="input_size == hidden_size"):
        make_cell("mut2", 3, 5)
    assert MUTCell(3, 5, 3).Wx.shape == (3, 15)
    with pytest.raises(ValueError, match="variant"):
        MUTCell(5, 5, 4)


def test_lstm_variants_follow_greff_et_al():
    x, h = _inputs()
    x = x[:, 0]
    c = torch.randn_like(h)
    full = LSTMCell(4, 5).double()
    W_i, W_f, W_o, W_g = _blocks(full.Wx, 5)
    U_i, U_f, U_o, U_g = _blocks(full.Wh, 5)
    b_i, b_f, b_o, b_g = _blocks(full.b, 5)
    i, f, o = sig(x @ W_i + h @ U_i + b_i), sig(x @ W_f + h @ U_f + b_f), sig(x @ W_o + h @ U_o + b_o)
    g = tanh(x @ W_g + h @ U_g + b_g)
    want_c = f * c + i * g
    got_h, (_, got_c) = _one_step(full, x, h, c)
    torch.testing.assert_close(got_c, want_c, rtol=0, atol=1e-12)
    torch.testing.assert_close(got_h, o * tanh(want_c), rtol=0, atol=1e-12)

    noaf = make_cell("lstm-noaf", 4, 5).double()
    noaf.load_state_dict(full.state_dict())
    got_h, (_, got_c) = _one_step(noaf, x, h, c)
    torch.testing.assert_close(got_h, o * want_c, rtol=0, atol=1e-12)

    def three_block(cell):  # i, o, g taken from the full cell
        with torch.no_grad():
            for name, full_p in (("Wx", full.Wx), ("Wh", full.Wh), ("b", full.b)):
                i_, _, o_, g_ = _blocks(full_p, 5)
                getattr(cell, name).copy_(torch.cat([i_, o_, g_], dim=-1))
        return cell

    nfg = three_block(make_cell("lstm-nfg", 4, 5).double())
    got_h, (_, got_c) = _one_step(nfg, x, h, c)
    torch.testing.assert_close(got_c, c + i * g, rtol=0, atol=1e-12)  # f = 1
    torch.testing.assert_close(got_h, o * tanh(c + i * g), rtol=0, atol=1e-12)

    cifg = three_block(make_cell("lstm-cifg", 4, 5).double())
    got_h, (_, got_c) = _one_step(cifg, x, h, c)
    torch.testing.assert_close(got_c, (1 - i) * c + i * g, rtol=0, atol=1e-12)  # f = 1 - i
    assert count_parameters(nfg) == count_parameters(cifg) == 3 * count_parameters(full) // 4
    with pytest.raises(ValueError, match="coupled"):
        LSTMCell(4, 5, forget_gate=False, coupled=True)


def test_forget_bias_sets_the_initial_forget_gate():
    cell = LSTMCell(3, 8, forget_bias=1.0)
    assert torch.all(cell.b[8:16] == 1.0)
    assert torch.all(cell.b[:8].abs() <= 1 / np.sqrt(8))
    f = sig((torch.zeros(1, 3) @ cell.Wx + cell.b)[0, 8:16])
    torch.testing.assert_close(f, torch.full((8,), float(sig(torch.tensor(1.0)))))
    assert torch.all(LSTMCell(3, 8).b.abs() <= 1 / np.sqrt(8))  # default 0: the uniform init, as torch
    cifg = make_cell("lstm-cifg", 3, 8, forget_bias=1.0)  # f = 1 - i starts at sigmoid(1) as well
    torch.testing.assert_close(1 - sig(cifg.b[:8]), torch.full((8,), float(sig(torch.tensor(1.0)))))
    with pytest.raises(ValueError, match="needs a forget gate"):
        make_cell("lstm-nfg", 3, 8, forget_bias=1.0)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_every_cell_has_correct_gradients(name):
    torch.manual_seed(3)
    runner = StackedRNN.of(name, 4, 4, num_layers=2).double()
    x, _ = _inputs(N=2, T=3, D=4, H=4)
    x.requires_grad_()
    params = [x, *runner.parameters()]
    names = [n for n, _ in runner.named_parameters()]

    def outputs(x, *weights):
        return torch.func.functional_call(runner, dict(zip(names, weights)), (x,))[0]

    assert torch.autograd.gradcheck(outputs, params, eps=1e-6, atol=1e-7)


def test_runner_equals_stepping_the_cells_by_hand():
    torch.manual_seed(4)
    runner = StackedRNN.of("lstm", 4, 5, num_layers=2).double()
    x, _ = _inputs()
    out, finals = runner(x)
    below = x
    for l, cell in enumerate(runner.cells):
        state, hs = None, []
        for t in range(x.shape[1]):
            h, state = cell(below[:, t], state)
            hs.append(h)
        below = torch.stack(hs, dim=1)
        torch.testing.assert_close(finals[l][1], state[1], rtol=0, atol=1e-12)
    torch.testing.assert_close(out, below, rtol=0, atol=1e-12)


def test_runner_and_cell_validate_their_inputs():
    with pytest.raises(ValueError, match="unknown cell"):
        make_cell("lstm2", 3, 4)
    with pytest.raises(ValueError, match="layer 1 reads"):
        StackedRNN([make_cell("rnn", 3, 4), make_cell("rnn", 5, 4)])
    runner = StackedRNN.of("gru", 3, 4)
    with pytest.raises(ValueError, match=r"\(N, T, 3\)"):
        runner(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="one state per layer"):
        runner(torch.zeros(2, 5, 3), [])
    with pytest.raises(ValueError, match=r"x_t must have shape \(N, 3\)"):
        runner.cells[0](torch.zeros(2, 4))
    with pytest.raises(ValueError, match="must be a plain LSTMCell"):
        copy_from_torch(StackedRNN.of("lstm-cifg", 3, 4), torch.nn.LSTM(3, 4))
    with pytest.raises(ValueError, match="reset_after"):
        copy_from_torch(StackedRNN.of("gru", 3, 4), torch.nn.GRU(3, 4))
    with pytest.raises(ValueError, match="layers"):
        copy_from_torch(StackedRNN.of("lstm", 3, 4), torch.nn.LSTM(3, 4, num_layers=2))


# --- the LSTM's equations in one place: lstm_gates / lstm_update -------------------------------------------------

def test_lstm_step_on_torch_weights_is_torch_lstm_cell():
    torch.manual_seed(0)
    ref = torch.nn.LSTMCell(3, 5).double()
    x, h, c = (torch.randn(4, n, dtype=F64) for n in (3, 5, 5))
    a = x @ ref.weight_ih.T + ref.bias_ih + h @ ref.weight_hh.T + ref.bias_hh  # blocks i, f, g, o
    h_new, c_new, gates = lstm_update(a, c, TORCH_GATE_ORDER)
    want_h, want_c = ref(x, (h, c))
    torch.testing.assert_close(h_new, want_h)
    torch.testing.assert_close(c_new, want_c)
    blocks = a.chunk(4, dim=1)
    torch.testing.assert_close(gates.g, tanh(blocks[2]))
    torch.testing.assert_close(gates.o, sig(blocks[3]))


@pytest.mark.parametrize("name", ["lstm", "lstm-nfg", "lstm-cifg", "lstm-noaf"])
def test_lstm_cell_steps_through_lstm_gates(name):
    torch.manual_seed(1)
    cell = make_cell(name, 3, 7).double()
    x, h, c = torch.randn(5, 3, dtype=F64), torch.randn(5, 7, dtype=F64), torch.randn(5, 7, dtype=F64)
    xw = cell.input_part(x)
    h1, (_, c1), gates = cell.step_with_gates(xw, (h, c))
    h2, (_, c2) = cell.step(xw, (h, c))
    assert torch.equal(h1, h2) and torch.equal(c1, c2)
    a = xw + h @ cell.Wh
    blocks = dict(zip(cell.gate_order, a.chunk(len(cell.gate_order), dim=1)))
    torch.testing.assert_close(gates.i, sig(blocks["i"]))
    torch.testing.assert_close(gates.g, tanh(blocks["g"]))
    want_f = sig(blocks["f"]) if "f" in blocks else (1 - gates.i if cell.coupled else torch.ones_like(c))
    torch.testing.assert_close(gates.f, want_f)
    torch.testing.assert_close(c1, want_f * c + gates.i * gates.g)


def test_lstm_gates_refuses_a_bad_order_or_width():
    with pytest.raises(ValueError, match="order"):
        lstm_gates(torch.zeros(2, 8), order="ifgg")
    with pytest.raises(ValueError, match="blocks"):
        lstm_gates(torch.zeros(2, 10), order="ifgo")


# --- bad input ------------------------------------------------------------------------------------------------


# ---- an LSTM's state is the pair (h, c) -------------------------------------------------------------------------

def test_5_lstm_cell_refuses_a_bare_tensor_as_state():
    cell = LSTMCell(3, 4)
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match=r"state must be the tuple \(h, c\)"):
        cell(x, torch.zeros(2, 4))


def test_5_lstm_cell_refuses_a_state_of_the_wrong_width():
    cell = LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"state's c must be a tensor of shape \(N, H\) = \(2, 4\)"):
        cell(torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 5)))


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
