"""Experiment 3: deep ReLU networks on rank-one and on whitened data (docs/theory.md 8, 9).

On rank-one data X = c a^T and on whitened data (X X^T = I_n) the optimal bias-free ReLU network
with weight decay on every layer has a closed form (``dualnet.rank_one_relu``,
``dualnet.whitened_relu``). Gradient descent from random starts is compared with it: no run can
go below the closed-form optimum, and the best runs reach it.
"""

from __future__ import annotations

import numpy as np

TITLE = "deep ReLU on rank-one and whitened data: closed form vs gradient descent"


def _problems():
    rng = np.random.default_rng(2)
    n, d = 20, 5
    a = rng.standard_normal(d)
    c_mixed = rng.standard_normal(n)
    c_positive = np.abs(rng.standard_normal(n))
    y_rank_one = rng.standard_normal(n)
    Q, _ = np.linalg.qr(rng.standard_normal((12, 8)))
    X_white = Q.T  # 8 x 12 with orthonormal rows: X X^T = I
    y_white = rng.standard_normal(8)
    return [
        ("rank-one data, 2 layers", np.outer(c_mixed, a), y_rank_one, 2, 1.0, "rank_one"),
        ("rank-one data (c >= 0), 3 layers", np.outer(c_positive, a), y_rank_one, 3, 1.0,
         "rank_one"),
        ("whitened data, 2 layers", X_white, y_white, 2, 0.5, "whitened"),
        ("whitened data, 3 layers", X_white, y_white, 3, 0.5, "whitened"),
    ]


def run(out, quick=False, seed=0, plot=True):
    import dualnet

    from . import ExperimentResult, Row
    from ._figures import new_figure, plot_objectives, save
    from .._training import gradient_descent, random_layers

    runs = 4 if quick else 10
    steps = 3000 if quick else 12000
    width = 8
    starts = np.random.default_rng(seed)
    rows, panels = [], []
    for name, X, y, depth, beta, kind in _problems():
        closed = (dualnet.rank_one_relu if kind == "rank_one" else dualnet.whitened_relu)(
            X, y, beta, depth=depth)
        optimum = float(closed.primal_objective)
        sizes = [X.shape[1]] + [width] * (depth - 1) + [1]
        traces = [gradient_descent(X, y[:, None], random_layers(starts, sizes, scale=1.0), beta,
                                   relu=True, steps=steps, lr=1e-2) for _ in range(runs)]
        gaps = np.array([(trace.final - optimum) / optimum for trace in traces])
        rows.append(Row("closed_form", f"{name}: closed-form optimum", optimum,
                        None if closed.dual_objective is None else float(closed.dual_objective),
                        "reference: its dual value (two layers)" if closed.dual_objective
                        is not None else ""))
        rows.append(Row("closed_form", f"{name}: lowest of {runs} GD runs, relative to the "
                        "closed form", float(gaps.min()), 0.0, "-1e-9 <= value <= 1e-5",
                        bool(-1e-9 <= gaps.min() <= 1e-5)))
        rows.append(Row("closed_form", f"{name}: runs within 1e-5 of the closed form",
                        float(np.mean(gaps <= 1e-5)), None,
                        "reported (a run may stop at a local minimum); none below the optimum",
                        bool(np.all(gaps >= -1e-9))))
        panels.append((name, traces, optimum))
    figures = []
    if plot:
        figure, axes = new_figure(2, nrows=2)
        for ax, (name, traces, optimum) in zip(axes, panels):
            plot_objectives(ax, traces, optimum, optimum_label="P*",
                            title=f"{name}: GD vs closed form", relative=True)
        figures.append(save(figure, out, "relu_closed_form.png"))
    return ExperimentResult(rows, figures)
