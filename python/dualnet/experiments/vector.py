"""Experiment 2: two-layer linear networks with K outputs (docs/theory.md section 5).

Weight decay on both layers equals nuclear-norm regularization of the end-to-end map:
min_W 1/2||XW - Y||_F^2 + beta ||W||_*, with dual max tr(Lambda^T Y) - 1/2||Lambda||_F^2 subject
to ||X^T Lambda||_2 <= beta. Gradient descent from random starts reaches the dual value, the
trained layers have rank r = rank W* <= K, and their singular values are sqrt(sigma_i(W*)).
"""

from __future__ import annotations

import numpy as np

TITLE = "vector outputs: GD reaches the nuclear-norm optimum; layers of rank <= K"


def run(out, quick=False, seed=0, plot=True):
    import dualnet

    from . import ExperimentResult, Row
    from ._figures import new_figure, plot_objectives, save
    from .._training import gradient_descent, random_layers

    rng = np.random.default_rng(1)
    n, d, K, width = 30, 8, 4, 10
    X = rng.standard_normal((n, d))
    signal = rng.standard_normal((d, 2)) @ rng.standard_normal((2, K))  # a rank-2 map
    Y = X @ signal + 0.5 * rng.standard_normal((n, K))
    beta = 6.0
    optimum = dualnet.deep_linear(X, Y, beta, depth=2, tol=1e-13)
    dual_value = float(optimum.dual_objective)
    target = np.linalg.svd(optimum.reduced, compute_uv=False)
    rank = int(np.sum(target > 1e-8 * target[0]))
    runs = 3 if quick else 8
    steps = 4000 if quick else 15000
    starts = np.random.default_rng(seed)
    traces = [gradient_descent(X, Y, random_layers(starts, [d, width, K]), beta, relu=False,
                               steps=steps, lr=1e-2) for _ in range(runs)]
    finals = np.array([trace.final for trace in traces])
    worst = float(np.max((finals - dual_value) / dual_value))
    rows = [
        Row("vector", "dual value D* (nuclear-norm program)", dual_value,
            optimum.primal_objective, "equals the primal optimum P* to 1e-9",
            bool(abs(dual_value - optimum.primal_objective) <= 1e-9 * dual_value)),
        Row("vector", f"worst of {runs} GD runs, relative to D*", worst, 0.0,
            "0 <= value <= 1e-6", bool(-1e-12 <= worst <= 1e-6)),
        Row("vector", "rank of the optimal map W* (K = 4)", rank, None, "<= K", rank <= K),
    ]
    spectra = []
    deviation = 0.0
    for trace in traces:
        W1, W2 = trace.layers
        s1 = np.linalg.svd(W1, compute_uv=False)
        s2 = np.linalg.svd(W2, compute_uv=False)
        spectra.append((s1, s2))
        reference = np.sqrt(target[:rank])
        deviation = max(deviation, float(np.max(np.abs(s1[:rank] - reference) / reference)),
                        float(np.max(np.abs(s2[:rank] - reference) / reference)),
                        float(s1[rank] / s1[0]) if s1.size > rank else 0.0)
    rows.append(Row("vector", "largest relative deviation of sigma_i(W_1), sigma_i(W_2) from "
                    "sqrt(sigma_i(W*)), and sigma_(r+1)/sigma_1", deviation, 0.0, "<= 1e-3",
                    bool(deviation <= 1e-3)))
    figures = []
    if plot:
        figure, axes = new_figure(2)
        plot_objectives(axes[0], traces, dual_value, optimum_label="D*",
                        title=f"{K} outputs: GD vs the nuclear-norm dual value")
        ax = axes[1]
        for k, (s1, s2) in enumerate(spectra):
            ax.semilogy(np.arange(1, s1.size + 1) - 0.1, np.maximum(s1, 1e-16), "o", color="C0",
                        alpha=0.6, label="W_1" if k == 0 else None)
            ax.semilogy(np.arange(1, s2.size + 1) + 0.1, np.maximum(s2, 1e-16), "s", color="C1",
                        alpha=0.6, label="W_2" if k == 0 else None)
        ax.semilogy(np.arange(1, rank + 1), np.sqrt(target[:rank]), "k_", ms=22, mew=2,
                    label="sqrt(sigma_i(W*)) (reference)")
        ax.set_xlabel("singular value index i")
        ax.set_ylabel("singular value of the trained layer")
        ax.set_title(f"trained layers have rank {rank} <= K = {K}")
        ax.legend(fontsize=7)
        figures.append(save(figure, out, "vector_outputs.png"))
    return ExperimentResult(rows, figures)
