"""Experiment 1: two-layer and deep linear networks, scalar output (docs/theory.md sections 3, 4).

Gradient descent with weight decay from several random starts converges to the dual value
D* = max{-1/2||lambda - y||^2 + 1/2||y||^2 : ||X^T lambda|| <= beta} (two layers; deep networks in
formulation B, norm-constrained first layers: the bound beta / t^(L-2)); every trained layer has
one dominant singular value (rank one) and consecutive layers are aligned: the right singular
vector of W_l is the left one of W_(l+1), and the first layer's is X^T lambda* / ||X^T lambda*||.
"""

from __future__ import annotations

import numpy as np

TITLE = "two-layer and deep linear networks: GD reaches the dual value; rank-one, aligned layers"


def _alignment(layers, u_star):
    """|<left singular vector of W_1, u*>| and |<right of W_l, left of W_(l+1)>| for each l."""
    left = [np.linalg.svd(np.atleast_2d(W.T).T if W.ndim == 1 else W)[0][:, 0] for W in layers]
    right = [np.linalg.svd(W)[2][0] for W in layers[:-1]]
    values = [abs(float(left[0] @ u_star))]
    values += [abs(float(right[i] @ left[i + 1])) for i in range(len(layers) - 1)]
    return values


def _ratios(layers):
    """sigma_2 / sigma_1 of every matrix layer (0 for rank one)."""
    ratios = []
    for W in layers[:-1]:
        s = np.linalg.svd(W, compute_uv=False)
        ratios.append(float(s[1] / s[0]) if s.size > 1 else 0.0)
    return ratios


def run(out, quick=False, seed=0, plot=True):
    import dualnet

    from . import ExperimentResult, Row
    from ._figures import new_figure, plot_objectives, save
    from .._training import gradient_descent, random_layers

    rng = np.random.default_rng(0)  # the reference data of docs/theory.md section 4
    X = rng.standard_normal((20, 5))
    y = rng.standard_normal(20)
    runs = 3 if quick else 8
    steps = 3000 if quick else 12000
    width = 8
    starts = np.random.default_rng(seed)
    rows, figures, panels = [], [], []
    for depth, beta in ((2, 0.7), (3, 0.3)):
        constrained = tuple(range(depth - 2))  # formulation B: ||W_l||_F <= 1 on layers 1..L-2
        optimum = dualnet.deep_linear(X, y, beta, depth=depth, formulation="constrained", t=1.0)
        dual_value = float(optimum.dual_objective)
        u_star = X.T @ optimum.dual
        u_star /= np.linalg.norm(u_star)
        sizes = [5] + [width] * (depth - 1) + [1]
        traces = [
            gradient_descent(X, y[:, None], random_layers(starts, sizes), beta, relu=False,
                             steps=steps, lr=1e-2, constrained=constrained)
            for _ in range(runs)
        ]
        finals = np.array([trace.final for trace in traces])
        name = f"{depth}-layer" + (" (||W_1|| <= 1)" if depth > 2 else "")
        worst = float(np.max((finals - dual_value) / dual_value))
        rows.append(Row("linear", f"{name}: dual value D*", dual_value, optimum.primal_objective,
                        "equals the primal optimum P* (zero gap)",
                        bool(abs(dual_value - optimum.primal_objective) <= 1e-9 * dual_value)))
        rows.append(Row("linear", f"{name}: worst of {runs} GD runs, relative to D*", worst, 0.0,
                        "0 <= value <= 1e-6", bool(-1e-12 <= worst <= 1e-6)))
        layers = [[np.asarray(W) for W in trace.layers] for trace in traces]
        ratio = max(max(_ratios(ls)) for ls in layers)
        rows.append(Row("linear", f"{name}: largest sigma_2/sigma_1 of a trained layer", ratio,
                        0.0, "rank one: <= 1e-3", bool(ratio <= 1e-3)))
        alignment = min(min(_alignment(ls, u_star)) for ls in layers)
        rows.append(Row("linear", f"{name}: smallest alignment of consecutive layers "
                        "(and of W_1 with X^T lambda*)", alignment, 1.0, ">= 1 - 1e-6",
                        bool(alignment >= 1 - 1e-6)))
        panels.append((name, traces, dual_value, layers, u_star))
    if plot:
        figure, axes = new_figure(2)
        for ax, (name, traces, dual_value, _, _) in zip(axes, panels):
            plot_objectives(ax, traces, dual_value, optimum_label="D*",
                            title=f"{name} linear: GD vs the dual value D*")
        figures.append(save(figure, out, "linear_objective.png"))
        figure, axes = new_figure(2)
        for ax, (name, traces, _, layers, _) in zip(axes, panels):
            for k, ls in enumerate(layers):
                for li, W in enumerate(ls[:-1]):
                    s = np.linalg.svd(W, compute_uv=False)
                    ax.semilogy(np.arange(1, s.size + 1) + 0.08 * li, np.maximum(s / s[0], 1e-16),
                                "o-" if k == 0 else "o", ms=4, alpha=0.7,
                                color=f"C{li}", label=f"W_{li + 1}" if k == 0 else None)
            ax.axhline(1.0, color="k", ls="--", lw=1, label="sigma_1 (reference)")
            ax.set_xlabel("singular value index i")
            ax.set_ylabel("sigma_i / sigma_1 of the trained layer")
            ax.set_title(f"{name}: trained layers are rank one")
            ax.legend(fontsize=7)
        figures.append(save(figure, out, "linear_singular_values.png"))
        figure, axes = new_figure(2)
        for ax, (name, traces, _, layers, u_star) in zip(axes, panels):
            values = np.array([_alignment(ls, u_star) for ls in layers])
            labels = ["W_1 vs X^T lambda*"] + [f"W_{i + 1} vs W_{i + 2}"
                                               for i in range(values.shape[1] - 1)]
            for j, label in enumerate(labels):
                ax.plot(np.arange(1, len(values) + 1), 1 - values[:, j] + 1e-17, "o",
                        label=label)
            ax.set_yscale("log")
            ax.axhline(1e-6, color="k", ls="--", lw=1, label="1e-6 (reference)")
            ax.set_xlabel("random start")
            ax.set_ylabel("1 - |cos angle| between singular vectors")
            ax.set_title(f"{name}: consecutive layers are aligned")
            ax.legend(fontsize=7)
        figures.append(save(figure, out, "linear_alignment.png"))
    return ExperimentResult(rows, figures)
