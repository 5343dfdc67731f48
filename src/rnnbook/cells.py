"""Recurrent cells in PyTorch, written from the lecture's equations, and one runner for stacked layers.

Every cell keeps its weights CS231n-style as row-vector maps, ``Wx`` (D, kH) for the input and ``Wh`` (H, mH) for
the previous state, with the k gate blocks side by side in the order the docstring gives. A cell splits one step
in two parts so that the runner can do the input half for the whole sequence in one matrix product:

    cell.input_part(x)         x (..., D) -> the terms that depend on x_t only, x Wx + b   (..., kH)
    cell.step(xw_t, state)     the rest of step t; state is a tuple, (h,) or (h, c)  ->  h_t, new state
    cell(x_t, state)           both halves for one step (what you would write first)

Cells (``make_cell(name, D, H)``; the names are the keys of ``CELLS``):

    rnn         h_t = tanh(x_t Wx + h_{t-1} Wh + b)
    lstm        i, f, o = sigmoid(.), g = tanh(.);  c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
    gru         r, z = sigmoid(.);  h~ = tanh(x_t W_xh + (r * h_{t-1}) W_hh + b_h);  h_t = z * h_{t-1} + (1 - z) * h~
    mut1..mut3  the three architectures found by the search of Jozefowicz et al. (2015), see ``MUTCell``
    lstm-nfg    LSTM without the forget gate (f = 1, Hochreiter & Schmidhuber's 1997 cell)     Greff et al.'s NFG
    lstm-noaf   LSTM without the output activation, h_t = o * c_t                            Greff et al.'s NOAF
    lstm-cifg   LSTM with coupled input and forget gates, f = 1 - i                          Greff et al.'s CIFG

The LSTM's equations are written once, in ``lstm_gates`` (gates from pre-activations, in any block order: torch's
i, f, g, o or ours, i, f, o, g) and ``lstm_update`` (c_t, h_t from the gates); ``LSTMCell`` and
``rnnbook.gradflow.lstm_trace`` (on a ``torch.nn.LSTM``'s own weights) both call them.

(The highway layer, y = g * H(x) + (1 - g) * x, the feed-forward cousin of the LSTM's cell path, is
``rnnbook.models.highway.Highway``.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

State = tuple[Tensor, ...]


# --- the LSTM's equations, in one place ---------------------------------------------------------------------------

#: the order of the gate blocks in ``torch.nn.LSTM``'s weight_ih, weight_hh and biases
TORCH_GATE_ORDER = "ifgo"
_ACTIVATION = {"i": torch.sigmoid, "f": torch.sigmoid, "o": torch.sigmoid, "g": torch.tanh}


class LSTMGates(NamedTuple):
    """The gates of one LSTM step, each (N, H): input i, forget f, candidate g, output o."""

    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor


def lstm_gates(a: Tensor, order: str = TORCH_GATE_ORDER, coupled: bool = False) -> LSTMGates:
    """The gates from their pre-activations a = x_t Wx + h_{t-1} Wh + b, shape (N, kH), blocks in ``order``:

        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o),   g = tanh(a_g)

    ``order`` names the k blocks: ``"ifgo"`` for ``torch.nn.LSTM`` (pre-activations W_ih x_t + b_ih + W_hh h_{t-1}
    + b_hh), ``"ifog"`` for ``LSTMCell``; without ``"f"`` (``"iog"``) the cell has no forget gate of its own and
    f = 1 - i (``coupled``, CIFG) or f = 1 (no forget gate, NFG). Neighbouring blocks with the same activation go
    through it in one call, as a fused kernel would.
    """
    if sorted(order) not in (sorted("ifgo"), sorted("iog")):
        raise ValueError(f"lstm_gates: order must name the blocks i, f, g, o (or i, g, o) once each, got {order!r}")
    if a.shape[-1] % len(order):
        raise ValueError(f"lstm_gates: a has {a.shape[-1]} columns, not {len(order)} blocks of H")
    H = a.shape[-1] // len(order)
    out: dict[str, Tensor] = {}
    start = 0
    while start < len(order):  # runs of neighbouring blocks with the same activation
        act = _ACTIVATION[order[start]]
        stop = start + 1
        while stop < len(order) and _ACTIVATION[order[stop]] is act:
            stop += 1
        values = act(a[..., start * H:stop * H]).chunk(stop - start, dim=-1)
        out.update(zip(order[start:stop], values))
        start = stop
    if "f" not in out:
        out["f"] = 1 - out["i"] if coupled else torch.ones_like(out["i"])
    return LSTMGates(out["i"], out["f"], out["g"], out["o"])


def lstm_update(a: Tensor, c: Tensor, order: str = TORCH_GATE_ORDER, coupled: bool = False,
                output_activation: bool = True) -> tuple[Tensor, Tensor, LSTMGates]:
    """One LSTM step from the gates' pre-activations a (N, kH, blocks in ``order``) and the cell c_{t-1} (N, H):

        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)   (h_t = o * c_t without the output activation)

    Returns h_t, c_t and the gates (``lstm_gates``). ``LSTMCell`` and ``rnnbook.gradflow.lstm_trace`` (on a
    ``torch.nn.LSTM``'s own weights) both step through here.
    """
    gates = lstm_gates(a, order, coupled)
    c = gates.f * c + gates.i * gates.g
    h = gates.o * torch.tanh(c) if output_activation else gates.o * c
    return h, c, gates


class Cell(nn.Module):
    """A recurrent cell: ``input_part`` (the x-only terms, batched over time) then ``step`` (the recurrence)."""

    #: how many hidden-sized blocks Wx has (gate blocks side by side)
    n_blocks: int = 1
    #: how many tensors the state holds: 1 for (h,), 2 for (h, c)
    n_state: int = 1

    def __init__(self, input_size: int, hidden_size: int, wx_blocks: int | None = None, wh_blocks: int | None = None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: input_size and hidden_size must be >= 1, "
                             f"got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size = input_size, hidden_size
        H, k = hidden_size, self.n_blocks
        self.Wx = nn.Parameter(torch.empty(input_size, (wx_blocks if wx_blocks is not None else k) * H))
        self.Wh = nn.Parameter(torch.empty(H, (wh_blocks if wh_blocks is not None else k) * H))
        self.b = nn.Parameter(torch.empty(k * H))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every weight and bias, as torch.nn.LSTM / GRU do."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def init_state(self, N: int, like: Tensor) -> State:
        """The zero state for a batch of N, with ``like``'s dtype and device."""
        return tuple(like.new_zeros(N, self.hidden_size) for _ in range(self.n_state))

    def input_part(self, x: Tensor) -> Tensor:
        """x (..., D) -> x Wx + b (..., kH): every term of the step that does not depend on the state."""
        return x @ self.Wx + self.b

    def step(self, xw: Tensor, state: State) -> tuple[Tensor, State]:
        raise NotImplementedError

    def check_input(self, x: Tensor, name: str = "x_t", where: str | None = None) -> None:
        """A torch tensor of the weights' floating dtype, on their device (else TypeError naming ``name``)."""
        where = where or type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{where}: {name} must be a torch tensor, got {type(x).__name__}; "
                            f"pass torch.as_tensor({name}, dtype=torch.{str(self.Wx.dtype).split('.')[-1]})")
        if x.dtype != self.Wx.dtype:
            raise TypeError(f"{where}: {name} has dtype {x.dtype}, the weights are {self.Wx.dtype}; pass "
                            f"{name}.to({self.Wx.dtype}) (or convert the module with .to(dtype) / .double())")

    def check_state(self, state, N: int, where: str | None = None) -> State:
        """``state`` as the tuple this cell carries: ``n_state`` tensors of shape (N, H) and the weights' dtype.

        A bare tensor given for an LSTM's (h, c) would unpack row by row into a wrong answer: refused.
        """
        where = where or type(self).__name__
        form = "(h, c)" if self.n_state == 2 else "(h,)"
        if not isinstance(state, (tuple, list)) or len(state) != self.n_state:
            got = (f"a tuple of {len(state)}" if isinstance(state, (tuple, list)) else f"a {type(state).__name__}")
            raise TypeError(f"{where}: state must be the tuple {form} of {self.n_state} tensor(s), each "
                            f"(N, {self.hidden_size}); got {got}. Pass None for zeros")
        for k, s in zip("hc", state):
            if not isinstance(s, Tensor) or tuple(s.shape) != (N, self.hidden_size):
                shape = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                raise ValueError(f"{where}: state's {k} must be a tensor of shape (N, H) = ({N}, {self.hidden_size}),"
                                 f" got {shape}")
            self.check_input(s, f"state's {k}", where)
        return tuple(state)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One step from the raw input: x_t (N, D), state -> h_t (N, H), the new state."""
        self.check_input(x)
        if x.dim() != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: x_t must have shape (N, {self.input_size}), got {tuple(x.shape)}")
        state = self.init_state(x.shape[0], x) if state is None else self.check_state(state, x.shape[0])
        return self.step(self.input_part(x), state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(Cell):
    """The vanilla RNN: h_t = tanh(x_t Wx + h_{t-1} Wh + b).  Wx (D, H), Wh (H, H), b (H,)."""

    def step(self, xw: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        h = torch.tanh(xw + h @ self.Wh)
        return h, (h,)


class LSTMCell(Cell):
    """The LSTM of the lecture (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.), and its variants.

        [i | f | o | g] = [sigmoid | sigmoid | sigmoid | tanh](x_t Wx + h_{t-1} Wh + b)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    Wx (D, 4H), Wh (H, 4H), b (4H,), blocks in the order i, f, o, g (torch.nn.LSTM uses i, f, g, o).
    State (h, c). The variants of Greff et al. (2017) change one thing each:

    - ``forget_gate=False`` (NFG): f = 1, the cell only accumulates; blocks i, o, g (3H).
    - ``coupled=True`` (CIFG): f = 1 - i, one gate decides both what to write and what to keep; blocks i, o, g.
    - ``output_activation=False`` (NOAF): h_t = o * c_t, no tanh on the cell.

    ``forget_bias`` is the initial value of the forget gate's bias b_f (Jozefowicz et al. 2015 recommend 1, so the
    gate starts mostly open, f = sigmoid(1) ~ 0.73, and the cell remembers from the first step of training).
    With coupled gates it sets b_i = -forget_bias instead, so that f = 1 - i starts at the same sigmoid(forget_bias).
    """

    n_state = 2

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 0.0, forget_gate: bool = True,
                 output_activation: bool = True, coupled: bool = False):
        if coupled and not forget_gate:
            raise ValueError("LSTMCell: coupled=True derives f from i, so it needs forget_gate=True")
        if forget_bias and not forget_gate:
            raise ValueError(f"LSTMCell: forget_bias={forget_bias} needs a forget gate; leave it at 0 with "
                             "forget_gate=False")
        self.has_f = forget_gate and not coupled  # a forget gate with weights of its own
        self.n_blocks = 4 if self.has_f else 3
        self.forget_gate, self.coupled, self.output_activation = forget_gate, coupled, output_activation
        self.forget_bias = forget_bias
        super().__init__(input_size, hidden_size)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        H = self.hidden_size
        with torch.no_grad():
            if self.has_f:
                self.b[H:2 * H].fill_(self.forget_bias)  # blocks i, f, o, g
            elif self.coupled and self.forget_bias:
                self.b[:H].fill_(-self.forget_bias)  # blocks i, o, g; f = 1 - i = sigmoid(forget_bias)

    @property
    def gate_order(self) -> str:
        """The order of the gate blocks in Wx, Wh and b: ``"ifog"``, or ``"iog"`` without a forget gate of its own."""
        return "ifog" if self.has_f else "iog"

    def step_with_gates(self, xw: Tensor, state: State) -> tuple[Tensor, State, LSTMGates]:
        """``step``, and the gates i, f, g, o of the step (each (N, H)) that it computed on the way."""
        h, c = state
        h, c, gates = lstm_update(xw + h @ self.Wh, c, self.gate_order, coupled=self.coupled,
                                output_activation=self.output_activation)
        return h, (h, c), gates

    def step(self, xw: Tensor, state: State) -> tuple[Tensor, State]:
        h, state, _ = self.step_with_gates(xw, state)
        return h, state

    def extra_repr(self) -> str:
        flags = [f"forget_bias={self.forget_bias}"] if self.forget_gate else []
        flags += [] if self.forget_gate else ["no forget gate"]
        flags += ["coupled i/f"] if self.coupled else []
        flags += [] if self.output_activation else ["no output activation"]
        return ", ".join([super().extra_repr(), *flags])


class GRUCell(Cell):
    """The GRU of Cho et al. (2014), as on the lecture's slide:

        r_t = sigmoid(x_t W_xr + h_{t-1} W_hr + b_r)
        z_t = sigmoid(x_t W_xz + h_{t-1} W_hz + b_z)
        h~_t = tanh(x_t W_xh + (r_t * h_{t-1}) W_hh + b_h)
        h_t = z_t * h_{t-1} + (1 - z_t) * h~_t

    Wx (D, 3H) and Wh (H, 3H) in blocks r, z, h; b (3H,). With ``reset_after=True`` the reset gate acts after the
    product instead, h~_t = tanh(x_t W_xh + b_h + r_t * (h_{t-1} W_hh + b_hh)), with a second bias ``bh`` (3H,)
    on the recurrent terms: the form torch.nn.GRU (and cuDNN) compute, which lets the three recurrent products be
    one matrix product.
    """

    n_blocks = 3

    def __init__(self, input_size: int, hidden_size: int, reset_after: bool = False):
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size)
        if reset_after:
            self.bh = nn.Parameter(torch.empty(3 * hidden_size))
            nn.init.uniform_(self.bh, -1.0 / math.sqrt(hidden_size), 1.0 / math.sqrt(hidden_size))

    def step(self, xw: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        H = self.hidden_size
        if self.reset_after:
            hw = h @ self.Wh + self.bh
            r, z = torch.sigmoid(xw[:, :2 * H] + hw[:, :2 * H]).chunk(2, dim=1)
            h_tilde = torch.tanh(xw[:, 2 * H:] + r * hw[:, 2 * H:])
        else:
            r, z = torch.sigmoid(xw[:, :2 * H] + h @ self.Wh[:, :2 * H]).chunk(2, dim=1)
            h_tilde = torch.tanh(xw[:, 2 * H:] + (r * h) @ self.Wh[:, 2 * H:])
        h = z * h + (1 - z) * h_tilde
        return h, (h,)

    def extra_repr(self) -> str:
        return super().extra_repr() + (", reset_after" if self.reset_after else "")


class MUTCell(Cell):
    """MUT1, MUT2 and MUT3, the best three of the ~10 000 architectures searched by Jozefowicz et al. (2015):

        MUT1:  z = sigm(x_t W_xz + b_z)
               r = sigm(x_t W_xr + h_t W_hr + b_r)
               h_{t+1} = tanh((r * h_t) W_hh + tanh(x_t) + b_h) * z + h_t * (1 - z)
        MUT2:  z = sigm(x_t W_xz + h_t W_hz + b_z)
               r = sigm(x_t + h_t W_hr + b_r)
               h_{t+1} = tanh((r * h_t) W_hh + x_t W_xh + b_h) * z + h_t * (1 - z)
        MUT3:  z = sigm(x_t W_xz + tanh(h_t) W_hz + b_z)
               r = sigm(x_t W_xr + h_t W_hr + b_r)
               h_{t+1} = tanh((r * h_t) W_hh + x_t W_xh + b_h) * z + h_t * (1 - z)

    (here z weighs the *new* candidate, the reverse of the GRU's convention). MUT1 and MUT2 add x_t itself to a
    hidden-sized pre-activation, so they need input_size == hidden_size. The x-only terms go in blocks z, r, h:
    ``input_part(x)`` = [x W_xz + b_z | x W_xr + b_r | x W_xh + b_h], with x in place of x W_xr (MUT2) and
    tanh(x) in place of x W_xh (MUT1). Wx holds the weights that exist: [W_xz | W_xr] (MUT1), [W_xz | W_xh]
    (MUT2), [W_xz | W_xr | W_xh] (MUT3); Wh holds [W_hr | W_hh] (MUT1) or [W_hz | W_hr | W_hh]; b (3H,).
    """

    n_blocks = 3

    def __init__(self, input_size: int, hidden_size: int, variant: int = 1):
        if variant not in (1, 2, 3):
            raise ValueError(f"MUTCell: variant must be 1, 2 or 3, got {variant!r}")
        if variant in (1, 2) and input_size != hidden_size:
            raise ValueError(f"MUTCell: MUT{variant} adds x_t to a hidden-sized vector, so it needs input_size == "
                             f"hidden_size, got {input_size} and {hidden_size}; put a linear layer (an embedding) "
                             "in front of the cell")
        self.variant = variant
        # MUT1 has no W_xh (tanh(x) instead) and no W_hz; MUT2 has no W_xr (x instead)
        super().__init__(input_size, hidden_size, wx_blocks=3 if variant == 3 else 2,
                         wh_blocks=2 if variant == 1 else 3)

    def input_part(self, x: Tensor) -> Tensor:
        H = self.hidden_size
        xw = x @ self.Wx
        if self.variant == 1:
            parts = [xw, torch.tanh(x)]  # z, r from weights; h from tanh(x)
        elif self.variant == 2:
            parts = [xw[..., :H], x, xw[..., H:]]  # r from x itself
        else:
            parts = [xw]
        return torch.cat(parts, dim=-1) + self.b

    def step(self, xw: Tensor, state: State) -> tuple[Tensor, State]:
        (h,) = state
        H = self.hidden_size
        if self.variant == 1:
            z = torch.sigmoid(xw[:, :H])
            r = torch.sigmoid(xw[:, H:2 * H] + h @ self.Wh[:, :H])
            W_hh = self.Wh[:, H:]
        else:
            h_in = torch.tanh(h) if self.variant == 3 else h
            z = torch.sigmoid(xw[:, :H] + h_in @ self.Wh[:, :H])
            r = torch.sigmoid(xw[:, H:2 * H] + h @ self.Wh[:, H:2 * H])
            W_hh = self.Wh[:, 2 * H:]
        h = torch.tanh((r * h) @ W_hh + xw[:, 2 * H:]) * z + h * (1 - z)
        return h, (h,)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", MUT{self.variant}"


#: name -> constructor (input_size, hidden_size, **options) -> Cell
CELLS: dict[str, Callable[..., Cell]] = {
    "rnn": RNNCell,
    "lstm": LSTMCell,
    "gru": GRUCell,
    "mut1": lambda D, H, **kw: MUTCell(D, H, variant=1, **kw),
    "mut2": lambda D, H, **kw: MUTCell(D, H, variant=2, **kw),
    "mut3": lambda D, H, **kw: MUTCell(D, H, variant=3, **kw),
    "lstm-nfg": lambda D, H, **kw: LSTMCell(D, H, forget_gate=False, **kw),
    "lstm-noaf": lambda D, H, **kw: LSTMCell(D, H, output_activation=False, **kw),
    "lstm-cifg": lambda D, H, **kw: LSTMCell(D, H, coupled=True, **kw),
}


def make_cell(name: str, input_size: int, hidden_size: int, **options) -> Cell:
    """A cell by name (a key of ``CELLS``), e.g. ``make_cell("lstm", 8, 32, forget_bias=1.0)``."""
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; choose one of {sorted(CELLS)}")
    return CELLS[name](input_size, hidden_size, **options)


class StackedRNN(nn.Module):
    """Layers of cells run over a sequence; layer l reads the whole output sequence of layer l - 1.

    x (N, T, D) -> outputs (N, T, H_top) (the top layer's h_t), and the final state of every layer.
    For each layer the input terms x Wx + b are computed for all T steps in one product, then the loop over t
    only does the recurrent part, ``cell.step``.
    """

    def __init__(self, cells: Sequence[Cell]):
        super().__init__()
        if not cells:
            raise ValueError("StackedRNN: give at least one cell")
        for l in range(1, len(cells)):
            if cells[l].input_size != cells[l - 1].hidden_size:
                raise ValueError(f"StackedRNN: layer {l} reads {cells[l].input_size} features, but layer {l - 1} "
                                 f"gives {cells[l - 1].hidden_size}")
        self.cells = nn.ModuleList(cells)

    @classmethod
    def of(cls, name: str, input_size: int, hidden_size: int, num_layers: int = 1, **options) -> StackedRNN:
        """``num_layers`` cells of one kind: the first reads input_size features, the others hidden_size."""
        return cls([make_cell(name, input_size if l == 0 else hidden_size, hidden_size, **options)
                    for l in range(num_layers)])

    def forward(self, x: Tensor, states: Sequence[State] | None = None) -> tuple[Tensor, list[State]]:
        D = self.cells[0].input_size
        self.cells[0].check_input(x, "x", "StackedRNN")
        if x.dim() != 3 or x.shape[2] != D:
            raise ValueError(f"StackedRNN: x must have shape (N, T, {D}), got {tuple(x.shape)}")
        if x.shape[1] == 0:
            raise ValueError(f"StackedRNN: x has T = 0 time steps (shape {tuple(x.shape)}); give at least one step")
        if states is not None and (not isinstance(states, (list, tuple)) or len(states) != len(self.cells)):
            got = len(states) if isinstance(states, (list, tuple)) else f"a {type(states).__name__}"
            raise ValueError(f"StackedRNN: states must be a list with one state per layer ({len(self.cells)}), "
                             f"got {got}")
        N, T, _ = x.shape
        finals = []
        for l, cell in enumerate(self.cells):
            state = (cell.check_state(states[l], N, f"StackedRNN layer {l}") if states is not None
                     else cell.init_state(N, x))
            hs = []
            for xw_t in cell.input_part(x).unbind(1):  # x Wx + b for all T steps at once, then one per step
                h, state = cell.step(xw_t, state)
                hs.append(h)
            x = torch.stack(hs, dim=1)
            finals.append(state)
        return x, finals


def count_parameters(module: nn.Module) -> int:
    """The number of trainable scalars."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- torch.nn.LSTM / torch.nn.GRU interop -------------------------------------------------------------------------

def _torch_layers(module: nn.RNNBase, runner: StackedRNN, kind: str) -> None:
    if module.bidirectional or getattr(module, "proj_size", 0):
        raise ValueError(f"copy_from_torch: bidirectional or projected {kind} is not supported")
    if module.num_layers != len(runner.cells):
        raise ValueError(f"copy_from_torch: the torch module has {module.num_layers} layers, the runner "
                         f"{len(runner.cells)}")
    if not module.bias:
        raise ValueError(f"copy_from_torch: the torch {kind} must have bias=True")


@torch.no_grad()
def copy_from_torch(runner: StackedRNN, module: nn.LSTM | nn.GRU) -> StackedRNN:
    """Copy the weights of a ``torch.nn.LSTM`` (into LSTM cells) or ``torch.nn.GRU`` (into GRU cells with
    ``reset_after=True``) so that the runner computes the same function. Returns the runner.

    torch keeps W_ih (4H, D) in gate order i, f, g, o and two biases; here Wx = W_ih^T in order i, f, o, g and
    b = b_ih + b_hh. The GRU's order r, z, n is the same as ours (r, z, h); its two biases stay apart.
    """
    if isinstance(module, nn.LSTM):
        _torch_layers(module, runner, "LSTM")
        for l, cell in enumerate(runner.cells):
            if not (isinstance(cell, LSTMCell) and cell.has_f and cell.output_activation):
                raise ValueError(f"copy_from_torch: layer {l} must be a plain LSTMCell, got {cell!r}")
            H = cell.hidden_size
            order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
            w_ih, w_hh = getattr(module, f"weight_ih_l{l}"), getattr(module, f"weight_hh_l{l}")
            b = getattr(module, f"bias_ih_l{l}") + getattr(module, f"bias_hh_l{l}")
            cell.Wx.copy_(w_ih[order].T)
            cell.Wh.copy_(w_hh[order].T)
            cell.b.copy_(b[order])
    elif isinstance(module, nn.GRU):
        _torch_layers(module, runner, "GRU")
        for l, cell in enumerate(runner.cells):
            if not (isinstance(cell, GRUCell) and cell.reset_after):
                raise ValueError(f"copy_from_torch: layer {l} must be a GRUCell(reset_after=True), got {cell!r}")
            cell.Wx.copy_(getattr(module, f"weight_ih_l{l}").T)
            cell.Wh.copy_(getattr(module, f"weight_hh_l{l}").T)
            cell.b.copy_(getattr(module, f"bias_ih_l{l}"))
            cell.bh.copy_(getattr(module, f"bias_hh_l{l}"))
    else:
        raise ValueError(f"copy_from_torch: expected torch.nn.LSTM or torch.nn.GRU, got {type(module).__name__}")
    return runner
