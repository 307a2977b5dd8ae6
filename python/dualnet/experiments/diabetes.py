"""Experiment 5: two-layer ReLU networks on real data (scikit-learn's diabetes, standardised).

Gradient descent and Adam with weight decay, from random starts and at several widths, against
the convex program of Pilanci & Ergen (ICML 2020) solved by ``dualnet.fit_relu``. With d = 10 and
n = 442 the full pattern set (about 3e18 patterns) cannot be enumerated; the program is posed
over a pattern set S made of sampled patterns and every pattern the trained networks' neurons
use, so every trained network is a feasible point of it: no run can end below its optimum P_S,
and ``dualnet.certify`` turns each network's residual into a certified lower bound relative to
S, whose gap is followed over training.
"""

from __future__ import annotations

import numpy as np

TITLE = "two-layer ReLU on diabetes: GD and Adam at several widths vs the certified optimum"

#: Epoch budget of the convex solve (see the comment at the call).
MAX_EPOCHS = 100_000


def _masks(X, layers):
    U = layers[0]
    a = layers[1][:, 0]
    active = (np.abs(a) * np.linalg.norm(U, axis=0)) > 0
    return X @ U[:, active] >= 0


def run(out, quick=False, seed=0, plot=True):
    import dualnet

    from ..cli._common import default_data
    from . import ExperimentResult, Row
    from ._figures import finish, new_figure, plot_gaps, save
    from .._training import adam, gradient_descent, random_layers

    data = default_data()
    X, y = data.X, data.y
    n, d = X.shape
    beta = 10.0
    widths = (5, 50) if quick else (5, 20, 100)
    runs = 1 if quick else 2
    steps = 3000 if quick else 10000
    checkpoints = np.unique(np.geomspace(10, steps, 4 if quick else 6).astype(int))
    starts = np.random.default_rng(seed)
    trained = []  # (width, optimizer, trace)
    for width in widths:
        for _ in range(runs):
            for name, train in (("GD", gradient_descent), ("Adam", adam)):
                layers = random_layers(starts, [d, width, 1], scale=0.5)
                trace = train(X, y[:, None], layers, beta, relu=True, steps=steps, lr=1e-2,
                              snapshot_at=checkpoints)
                trained.append((width, name, trace))
    sampled = dualnet.activation_patterns(X, method="sample", n_gates=1000,
                                          random_state=seed)
    masks = [sampled.masks]
    for _, _, trace in trained:
        masks.append(_masks(X, trace.layers))
        masks.extend(_masks(X, layers) for _, layers in trace.snapshots)
    union = np.unique(np.hstack(masks).T, axis=0).T
    patterns = dualnet.Patterns.from_masks(union, n_features=d)
    # The set holds many near-duplicate patterns (the snapshots of one run differ in a few rows:
    # a quarter of them lie within Hamming distance 2 of another), so the blocks D_i X are
    # nearly collinear and block coordinate descent converges slowly (5e3 to 1.2e4 epochs here,
    # against about 1e2 over the sampled patterns alone): the budget is set well above that.
    fit = dualnet.fit_relu(X, y, beta, patterns=patterns, tol=1e-6, max_iter=MAX_EPOCHS)
    optimum = fit.primal_objective
    rows = [
        Row("diabetes", f"convex optimum P_S over {len(patterns)} patterns (n = {n}, d = {d}, "
            f"beta = {beta:g})", optimum, fit.dual_objective,
            "certified dual value, relative gap <= 1e-6", bool(fit.relative_gap <= 1e-6)),
        Row("diabetes", "width of the optimal network", float(fit.width), None, "reported"),
    ]
    gaps = []
    for width, name, trace in trained:
        certificates = []
        for step, layers in trace.snapshots + ((steps, trace.layers),):
            cert = dualnet.certify(X, y, beta, layers[0], layers[1][:, 0], patterns=patterns)
            certificates.append((step, cert.relative_gap))
        gaps.append(certificates)
    for width in widths:
        for name in ("GD", "Adam"):
            finals = [t.final for w, o, t in trained if w == width and o == name]
            rel = (min(finals) - optimum) / optimum
            above = min(finals) >= fit.dual_objective
            rows.append(Row("diabetes", f"width {width}, {name}: best final objective relative "
                            "to P_S", rel, 0.0, "above the certified lower bound", bool(above)))
    final_gaps = [g[-1][1] for g in gaps]
    rows.append(Row("diabetes", "smallest certified relative gap of a trained network",
                    float(min(final_gaps)), fit.relative_gap, "reported (0 only at the optimum)"))
    figures = []
    if plot:
        figure, axes = new_figure(2)
        ax = axes[0]
        colors = {width: f"C{k}" for k, width in enumerate(widths)}
        seen = set()
        for width, name, trace in trained:
            label = f"width {width}, {name}"
            ax.semilogy(trace.steps, (trace.objectives - optimum) / optimum + 1e-16,
                        "-" if name == "GD" else "--", color=colors[width], lw=1.1,
                        label=label if label not in seen else None)
            seen.add(label)
        ax.axhline(1e-3, color="k", ls=":", lw=1, label="1e-3 (reference)")
        ax.set_xscale("log")
        finish(ax, "step", "(objective - P_S) / P_S",
               f"diabetes, beta = {beta:g}: training vs the convex optimum P_S")
        seen, series = set(), []
        for (width, name, _), certificates in zip(trained, gaps):
            steps_at, values = zip(*certificates)
            label = f"width {width}, {name}"
            series.append((steps_at, values, colors[width], "o-" if name == "GD" else "s--",
                           label if label not in seen else None))
            seen.add(label)
        plot_gaps(axes[1], series, fit.relative_gap)
        figures.append(save(figure, out, "diabetes_relu.png"))
    return ExperimentResult(rows, figures)
