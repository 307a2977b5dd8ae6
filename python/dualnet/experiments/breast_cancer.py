"""Experiment 5, classification: two-layer ReLU networks with the logistic loss on breast_cancer.

Full-batch Adam with weight decay, from random starts and at several widths, on

    sum_i log(1 + exp(-y_i f(x_i))) + beta/2 sum_j (||u_j||^2 + a_j^2),   f(x) = sum_j (x^T u_j)_+ a_j,

against the convex program of the same network (Pilanci & Ergen, ICML 2020) with the logistic
loss, solved by ``dualnet.fit_relu(loss="logistic")``, on scikit-learn's breast_cancer data
(569 samples, 30 features, standardised; labels -1/+1). As in the diabetes experiment the full
pattern set cannot be enumerated: the program is posed over a set S of sampled patterns and every
pattern the trained networks' neurons use (at the end and at the checkpoints), so every trained
network is a feasible point of it and none can end below its optimum P_S. Each network's
certificate is the logistic dual (docs/theory.md section 6) at lambda = -grad L(yhat), rescaled
into the dual feasible set of S: a certified lower bound on P_S, whose gap is followed over
training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TITLE = ("two-layer ReLU with the logistic loss on breast_cancer: Adam at several widths vs the "
         "certified optimum")

#: Weight decay of the experiment (summed logistic loss: about 394 at the zero network).
BETA = 5.0
#: Certified relative gap of the convex solve.
TOL = 1e-6


def load_data():
    """breast_cancer: X (569, 30) with standardised columns, y in {-1, +1} (+1: benign)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    X = np.asarray(bunch.data, dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, 2.0 * np.asarray(bunch.target, dtype=np.float64) - 1.0


def _masks(X, first_layer, second_layer):
    active = np.abs(second_layer) * np.linalg.norm(first_layer, axis=0) > 0
    return X @ first_layer[:, active] >= 0


def logistic_certificate(X, y, beta, first_layer, second_layer, patterns):
    """(objective, certified lower bound) of the network (U, a) for the logistic program over
    ``patterns``: the dual objective at -grad L(yhat) rescaled by the patterns' cone bounds."""
    from ..duality.losses import feasible_dual_point, get_loss
    from ..duality.neurons import pattern_constraints

    X = np.ascontiguousarray(X, dtype=np.float64)
    yhat = np.maximum(X @ first_layer, 0.0) @ second_layer
    objective = get_loss("logistic").value(yhat, y) + 0.5 * beta * (
        float(np.sum(first_layer**2)) + float(second_layer @ second_layer))

    def constraint(dual):
        return float(pattern_constraints(X, dual, patterns)[3].max(initial=0.0))

    point = feasible_dual_point("logistic", yhat, y, beta, constraint)
    return float(objective), float(point.dual_objective)


@dataclass(frozen=True)
class Comparison:
    """The convex optimum over S and the trained networks.

    Attributes
    ----------
    fit : ReLUFit
        ``fit_relu(loss="logistic")`` over S.
    runs : list of (width, Trace, certificates)
        Adam runs; ``certificates`` lists (step, objective, lower bound) at the checkpoints and
        at the end.
    """

    fit: object
    runs: list


def compare(X, y, beta, *, widths, runs, steps, n_gates, n_checkpoints, seed=0, tol=TOL,
            lr=1e-2):
    """Adam runs at each width (``runs`` random starts each) and the convex program over the
    sampled patterns of ``n_gates`` gates joined to every pattern the runs use."""
    import dualnet

    from .._training import adam, random_layers

    X = np.ascontiguousarray(X, dtype=np.float64)
    n, d = X.shape
    checkpoints = np.unique(np.geomspace(10, steps, n_checkpoints).astype(int))[:-1]
    starts = np.random.default_rng(seed)
    traces = []
    for width in widths:
        for _ in range(runs):
            layers = random_layers(starts, [d, width, 1], scale=0.5)
            traces.append((width, adam(X, y[:, None], layers, beta, relu=True, steps=steps,
                                       lr=lr, snapshot_at=checkpoints, loss="logistic")))
    masks = [dualnet.activation_patterns(X, method="sample", n_gates=n_gates,
                                         random_state=seed).masks]
    for _, trace in traces:
        for layers in [trace.layers] + [layers for _, layers in trace.snapshots]:
            masks.append(_masks(X, layers[0], layers[1][:, 0]))
    union = np.unique(np.hstack(masks).T, axis=0).T
    patterns = dualnet.Patterns.from_masks(union, n_features=d)
    fit = dualnet.fit_relu(X, y, beta, patterns=patterns, loss="logistic", tol=tol)
    results = []
    for width, trace in traces:
        certificates = [
            (step, *logistic_certificate(X, y, beta, layers[0], layers[1][:, 0], patterns))
            for step, layers in trace.snapshots + ((steps, trace.layers),)
        ]
        results.append((width, trace, certificates))
    return Comparison(fit, results)


def run(out, quick=False, seed=0, plot=True):
    from . import ExperimentResult, Row

    X, y = load_data()
    n, d = X.shape
    beta = BETA
    widths = (5, 50) if quick else (5, 20, 100)
    result = compare(X, y, beta, widths=widths, runs=1 if quick else 2,
                     steps=2000 if quick else 10000, n_gates=100 if quick else 500,
                     n_checkpoints=4 if quick else 6, seed=seed)
    fit = result.fit
    optimum, lower = fit.primal_objective, fit.dual_objective
    rows = [
        Row("breast_cancer", f"convex optimum P_S over {len(fit.patterns)} patterns (logistic "
            f"loss, n = {n}, d = {d}, beta = {beta:g})", optimum, lower,
            f"certified dual value, relative gap <= {TOL:g}", bool(fit.relative_gap <= TOL)),
        Row("breast_cancer", "width of the optimal network", float(fit.width), None, "reported"),
        Row("breast_cancer", "training accuracy of the optimal network",
            float(np.mean(np.sign(fit.predict(X)) == y)), None, "reported"),
    ]
    for width in widths:
        finals = [trace.final for w, trace, _ in result.runs if w == width]
        rows.append(Row("breast_cancer", f"width {width}, Adam: best final objective relative "
                        "to P_S", (min(finals) - optimum) / optimum, 0.0,
                        "no run below the certified lower bound", bool(min(finals) >= lower)))
    final_gaps = [(c[-1][1] - c[-1][2]) / c[-1][1] for _, _, c in result.runs]
    rows.append(Row("breast_cancer", "smallest certified relative gap of a trained network",
                    float(min(final_gaps)), fit.relative_gap, "reported (0 only at the optimum)"))
    figures = []
    if plot:
        figures.append(_figure(result, widths, beta, out))
    return ExperimentResult(rows, figures)


def _figure(result, widths, beta, out):
    from ._figures import finish, new_figure, plot_gaps, save

    fit = result.fit
    optimum = fit.primal_objective
    figure, axes = new_figure(3, width=4.6)
    colors = {width: f"C{k}" for k, width in enumerate(widths)}

    def label(width, seen):
        text = f"width {width}, Adam"
        if text in seen:
            return None
        seen.add(text)
        return text

    ax, seen = axes[0], set()
    for width, trace, _ in result.runs:
        ax.semilogx(trace.steps[1:], trace.objectives[1:], color=colors[width], lw=1.1,
                    label=label(width, seen))
    ax.axhline(optimum, color="k", ls="--", lw=1.2, label=f"P_S = {optimum:.6g} (convex)")
    ax.set_ylim(0.95 * optimum, 2.0 * optimum)  # the start (about 394) is far above
    finish(ax, "Adam step", "training objective (logistic loss + weight decay)",
           f"breast_cancer, beta = {beta:g}: Adam vs P_S")
    ax, seen = axes[1], set()
    for width, trace, _ in result.runs:
        ax.loglog(trace.steps[1:], np.maximum((trace.objectives[1:] - optimum) / optimum, 1e-16),
                  color=colors[width], lw=1.1, label=label(width, seen))
    ax.axhline(max(fit.relative_gap, 1e-16), color="k", ls="--", lw=1,
               label="P_S (to its certified gap)")
    finish(ax, "Adam step", "(objective - P_S) / P_S", "distance to the convex optimum")
    seen, series = set(), []
    for width, _, certificates in result.runs:
        steps_at, objectives, bounds = map(np.array, zip(*certificates))
        series.append((steps_at, (objectives - bounds) / objectives, colors[width], "o-",
                       label(width, seen)))
    plot_gaps(axes[2], series, fit.relative_gap, xlabel="Adam step")
    return save(figure, out, "breast_cancer_logistic.png")
