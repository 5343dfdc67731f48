"""Figures of the gradient-flow chapter: ||dh_t/dh_0|| against its bound, gradients by lag and by layer, and
training with and without clipping. ``gradient_flow_widget`` has a static twin, ``gradient_flow_static``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from rnnbook.gradflow import NONLINEARITIES, GradientFlow, rnn_gradient_flow


def _positive(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Values for a log axis: zeros and non-finite entries become NaN (a gap in the line)."""
    v = np.asarray(values, dtype=float).copy()
    v[~np.isfinite(v) | (v <= 0)] = np.nan
    return v


def plot_gradient_flow(flow: GradientFlow, ax: Axes | None = None, legend: bool = True) -> Axes:
    """||dh_t/dh_0|| (measured) beside the bounds sigma_max^t and prod_s max|phi'| sigma_max, log scale."""
    ax = ax or plt.subplots(figsize=(5, 3.2))[1]
    t = np.arange(1, flow.T + 1)
    ax.semilogy(t, _positive(flow.bound), "k--", lw=1, label=r"bound $\sigma_{max}^t$")
    if flow.nonlinearity != "linear":
        ax.semilogy(t, _positive(flow.tight_bound), ":", color="grey", lw=1,
                    label=r"$\prod_s \max|\phi'|\,\sigma_{max}$")
    ax.semilogy(t, _positive(flow.norms), lw=2, color="C0" if flow.nonlinearity == "linear" else "C3",
                label=r"measured $\|\partial h_t/\partial h_0\|$")
    slope = flow.slope
    ax.set_title(f"{flow.nonlinearity}, $\\sigma_{{max}}$ = {flow.sigma_max:g}: slope {slope:+.3f}/step", fontsize=11)
    ax.set_xlabel("t (steps back in time)")
    ax.set_ylabel(r"$\|\partial h_t/\partial h_0\|_2$")
    ax.grid(alpha=0.3, which="both")
    low = np.nanmin(_positive(np.concatenate([flow.norms, flow.bound])))
    high = np.nanmax(_positive(np.concatenate([flow.norms, flow.bound])))
    ax.set_ylim(max(low, 1e-40) / 3, max(high, 1.0) * 3)
    if legend:
        ax.legend(frameon=False, fontsize=11, loc="lower left")
    return ax


def gradient_flow_figure(sigma_max: float, nonlinearity: str = "tanh", T: int = 100, **kwargs) -> plt.Figure:
    """Measure one vanilla RNN (``rnnbook.gradflow.rnn_gradient_flow``) and plot it; what the widget redraws."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    plot_gradient_flow(rnn_gradient_flow(sigma_max, nonlinearity, T=T, **kwargs), ax=ax)
    fig.tight_layout()
    return fig


def gradient_flow_static(sigmas: Sequence[float] = (0.9, 1.0, 1.1),
                         nonlinearities: Sequence[str] = ("linear", "tanh"), T: int = 100, **kwargs) -> plt.Figure:
    """Static twin of ``gradient_flow_widget``: one panel per (nonlinearity, sigma_max) setting."""
    fig, axes = plt.subplots(len(nonlinearities), len(sigmas), figsize=(3.0 * len(sigmas), 2.8 * len(nonlinearities)),
                             sharex=True, squeeze=False)
    for row, nonlinearity in zip(axes, nonlinearities):
        for ax, sigma in zip(row, sigmas):
            plot_gradient_flow(rnn_gradient_flow(sigma, nonlinearity, T=T, **kwargs), ax=ax,
                               legend=ax is axes[0, 0])
    for ax in axes[:-1].ravel():
        ax.set_xlabel("")
    fig.tight_layout()
    return fig


def gradient_flow_widget(T: int = 100, **kwargs):
    """A slider for sigma_max and a menu for the nonlinearity; redraws ||dh_t/dh_0|| and its bound."""
    import ipywidgets as widgets

    def show(sigma_max: float, nonlinearity: str) -> None:
        gradient_flow_figure(sigma_max, nonlinearity, T=T, **kwargs)
        plt.show()

    return widgets.interact(
        show,
        sigma_max=widgets.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.05, description="σ_max"),
        nonlinearity=widgets.Dropdown(options=list(NONLINEARITIES), value="tanh", description="φ"),
    )


def plot_lag_norms(curves: Mapping[str, np.ndarray], mark: int | None = 50, ax: Axes | None = None,
                   ylabel: str = r"$\|\partial L/\partial x_{T-k}\|$") -> Axes:
    """Gradient norm against the lag k (how far back the input is), one line per model, log scale."""
    ax = ax or plt.subplots(figsize=(6, 3.4))[1]
    for name, values in curves.items():
        ax.semilogy(np.arange(len(values)), _positive(values), label=name)
    if mark is not None:
        ax.axvline(mark, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("lag k (steps before the loss)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False, fontsize=11)
    return ax


def plot_layer_norms(curves: Mapping[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Gradient norm at each layer's output (0 = the input), one line per stack, log scale."""
    ax = ax or plt.subplots(figsize=(6, 3.4))[1]
    for name, values in curves.items():
        ax.semilogy(np.arange(len(values)), _positive(values), marker=".", ms=3, label=name)
    ax.set_xlabel("layer l (0 = input)")
    ax.set_ylabel(r"$\|\partial L/\partial h_l\|$")
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False, fontsize=11)
    return ax


def plot_clipping_runs(losses: Mapping[str, Sequence[float]], grad_norms: Mapping[str, Sequence[float]],
                       clip_norm: float | None = None) -> plt.Figure:
    """Two panels: the loss per step and the gradient norm before clipping, one line per run (log scales).

    A run that diverged ends early; its last finite point is marked with an x.
    """
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 3.4))
    for k, name in enumerate(losses):
        for ax, values in ((ax_loss, losses[name]), (ax_grad, grad_norms.get(name, []))):
            v = _positive(values)
            if len(v) == 0:
                continue
            ax.semilogy(np.arange(len(v)), v, color=f"C{k}", label=name)
            finite = np.flatnonzero(np.isfinite(v))
            if len(finite) and len(v) < max(len(x) for x in losses.values()):
                ax.semilogy(finite[-1], v[finite[-1]], "x", color=f"C{k}", ms=9, mew=2)
    if clip_norm is not None:
        ax_grad.axhline(clip_norm, color="grey", ls=":", lw=1, label=f"clip_norm = {clip_norm:g}")
    ax_loss.set_ylabel("loss")
    ax_grad.set_ylabel("gradient norm before clipping")
    for ax in (ax_loss, ax_grad):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3, which="both")
        ax.legend(frameon=False, fontsize=11)
    fig.tight_layout()
    return fig


def plot_slopes(sigmas: Sequence[float], slopes: Mapping[str, Sequence[float]], ax: Axes | None = None) -> Axes:
    """Fitted slope of log ||dh_t/dh_0|| per step against sigma_max, one line per nonlinearity, beside log sigma_max.

    Above 0 the gradient explodes, below 0 it vanishes; log sigma_max is the slope of the bound sigma_max^t.
    """
    ax = ax or plt.subplots(figsize=(5.5, 3.4))[1]
    s = np.asarray(sigmas, dtype=float)
    for name, values in slopes.items():
        ax.plot(s, values, marker=".", label=name)
    ax.plot(s, np.log(s), "k--", lw=1.2, zorder=5, label=r"$\log \sigma_{max}$ (the bound)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(1, color="grey", lw=0.8, ls=":")
    ax.set_xlabel(r"$\sigma_{max}(W_{hh})$")
    ax.set_ylabel("slope of log-norm per step")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=11)
    return ax
