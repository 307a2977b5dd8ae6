"""Experiment 4: ReLU networks on one-dimensional data are linear splines (docs/theory.md s. 10).

With a hidden bias (regularized like the weights, dualnet's convention) the optimal two-layer
network on scalar inputs is the exact convex program over the 2n threshold patterns
(``dualnet.spline_1d``): a continuous piecewise-linear function whose kinks sit at data points or
at the interior maximiser t = -B/A of their dual constraint (A = sum lambda_i x_i, B = sum
lambda_i over the inputs a neuron covers). Gradient descent from random starts is compared with
it, and the kinks of the trained two- and three-layer networks are located.
"""

from __future__ import annotations

import numpy as np

TITLE = "1-D data: ReLU fits are linear splines with kinks at data points (or at -B/A)"


def _data():
    x = np.array([-2.0, -1.4, -0.9, -0.3, 0.2, 0.8, 1.5, 2.1])
    y = np.array([1.2, 0.1, 0.6, -0.4, 0.3, 1.1, 0.2, 0.9])
    return x, y


def kink_explanations(x, dual, first_layer, second_layer, *, rtol=1e-6):
    """For every active neuron (w, b) of a two-layer network: its kink t = -b/w, the distance to
    the nearest input and to the neuron's dual maximiser -B/A; returns (kinks, explained) with
    explained[j] true when t is within rtol (relative to the data's range) of either."""
    scale = float(np.ptp(x)) or 1.0
    kinks, explained = [], []
    for (w, b), a in zip(first_layer.T, second_layer):
        if a == 0 or w == 0:
            continue
        t = -b / w
        covered = (w * x + b) > 1e-12 * scale
        A = float(dual[covered] @ x[covered])
        B = float(dual[covered].sum())
        distances = [float(np.min(np.abs(x - t)))]
        if A != 0:
            distances.append(abs(t + B / A))
        kinks.append(t)
        explained.append(min(distances) <= rtol * scale)
    return np.array(kinks), np.array(explained, dtype=bool)


def _network_kinks(first_layer, second_layer):
    """Kinks -b/w of the neurons carrying at least 1e-3 of the largest |a_j| ||u_j||."""
    weight = np.abs(second_layer) * np.linalg.norm(first_layer, axis=0)
    active = weight > 1e-3 * weight.max()
    w, b = first_layer[0, active], first_layer[1, active]
    return np.sort(-b[w != 0] / w[w != 0])


def _grid_kinks(f, grid, tol):
    """Kinks of a piecewise-linear function sampled on a uniform grid (slope jumps > tol)."""
    values = f(grid)
    slopes = np.diff(values) / np.diff(grid)
    jumps = np.flatnonzero(np.abs(np.diff(slopes)) > tol)
    return grid[jumps + 1]


def run(out, quick=False, seed=0, plot=True):
    import dualnet

    from . import ExperimentResult, Row
    from ._figures import new_figure, save
    from .._training import _forward, adam_then_descent, random_layers

    x, y = _data()
    beta = 0.05
    optimum = dualnet.spline_1d(x, y, beta, tol=1e-12)
    kinks, explained = kink_explanations(x, np.asarray(optimum.dual),
                                         np.asarray(optimum.first_layer),
                                         np.asarray(optimum.second_layer))
    at_data = int(np.sum([np.min(np.abs(x - t)) <= 1e-6 * np.ptp(x) for t in kinks]))
    rows = [
        Row("spline", "optimal two-layer objective (exact convex program)",
            optimum.primal_objective, optimum.dual_objective, "certified dual value",
            bool(optimum.primal_objective - optimum.dual_objective
                 <= 1e-8 * optimum.primal_objective)),
        Row("spline", f"kinks of the optimum's {kinks.size} neurons at a data point or at -B/A",
            float(np.sum(explained)), float(kinks.size), "all", bool(np.all(explained))),
        Row("spline", "neurons of the optimum with their kink at a data point", float(at_data),
            None, "reported (the others sit at -B/A)"),
    ]
    Xa = np.c_[x, np.ones_like(x)]
    runs = 3 if quick else 8
    steps = (4000, 1500) if quick else (12000, 4000)
    starts = np.random.default_rng(seed)

    def train(sizes):
        return adam_then_descent(Xa, y[:, None], random_layers(starts, sizes, scale=0.5), beta,
                                 relu=True, adam_steps=steps[0], descent_steps=steps[1])

    two = [train([2, 50, 1]) for _ in range(runs)]
    three = [train([2, 20, 20, 1]) for _ in range(runs)]
    gaps = np.array([(t.final - optimum.primal_objective) / optimum.primal_objective for t in two])
    best = two[int(np.argmin(gaps))]
    best_kinks = _network_kinks(best.layers[0], best.layers[1][:, 0])
    distance = max(float(np.min(np.abs(kinks - t))) for t in best_kinks)
    rows += [
        Row("spline", f"2-layer: lowest of {runs} runs (Adam, then GD), relative to the optimum",
            float(gaps.min()), 0.0, "-1e-9 <= value <= 1e-3", bool(-1e-9 <= gaps.min() <= 1e-3)),
        Row("spline", "2-layer: farthest kink of the best run from a kink of the optimum",
            distance, 0.0, "<= 0.05", bool(distance <= 0.05)),
    ]
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 4001)

    def deep(trace):
        return lambda t: _forward(np.c_[t, np.ones_like(t)], list(trace.layers), True)[1][:, 0]

    best3 = min(three, key=lambda t: t.final)
    deep_kinks = _grid_kinks(deep(best3), grid, tol=1e-3)
    deep_offsets = [float(np.min(np.abs(x - t))) for t in deep_kinks]
    rows += [
        Row("spline", f"3-layer: lowest of {runs} trained objectives", best3.final,
            optimum.primal_objective, "reported (two-layer optimum for scale)"),
        Row("spline", "3-layer: kinks of the best fit (grid step 1.2e-3)",
            float(deep_kinks.size), None, "reported"),
        Row("spline", "3-layer: largest distance of a kink from the nearest data point",
            max(deep_offsets, default=0.0), None, "reported"),
    ]
    figures = []
    if plot:
        figure, axes = new_figure(2)
        ax = axes[0]
        ax.plot(grid, optimum.predict(grid), "k-", lw=2.5, label="optimum (convex program)")
        for k, trace in enumerate(two[:4]):
            ax.plot(grid, deep(trace)(grid), "--", lw=1, label=f"2-layer, run {k + 1}")
        ax.plot(grid, deep(best3)(grid), ":", color="C5", lw=1.8, label="3-layer (best run)")
        ax.plot(x, y, "o", color="C3", ms=6, label="data", zorder=5)
        for k, t in enumerate(kinks):
            ax.axvline(t, color="grey", lw=0.6, ls=":", label="kinks of the optimum" if k == 0
                       else None)
        ax.set_xlabel("input x")
        ax.set_ylabel("network output f(x)")
        ax.set_title(f"1-D data, beta = {beta:g}: fits are linear splines")
        ax.legend(fontsize=7)
        ax = axes[1]
        for k, trace in enumerate(two):
            ax.semilogy(trace.steps, np.maximum((trace.objectives - optimum.primal_objective)
                                                / optimum.primal_objective, 1e-16), lw=1,
                        label=f"run {k + 1}" if k < 6 else None)
        ax.axhline(1e-3, color="k", ls="--", lw=1, label="1e-3 (reference)")
        ax.axvline(steps[0], color="grey", lw=0.8, label="Adam -> gradient descent")
        ax.set_xlabel("step (Adam, then gradient descent)")
        ax.set_ylabel("(objective - P*) / P*")
        ax.set_title("2-layer training vs the exact optimum P*")
        ax.legend(fontsize=7)
        figures.append(save(figure, out, "spline_1d.png"))
    return ExperimentResult(rows, figures)
