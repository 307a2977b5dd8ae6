"""Local search on the non-convex deep network, written independently of the library under test.

    f(W_1, ..., W_L) = 1/2||N(X) - Y||_F^2 + beta/2 sum_{l penalized} ||W_l||_F^2

N(X) = X W_1 ... W_L (linear) or (...((X W_1)_+ W_2)_+ ...)_+ W_L (ReLU, no biases). Layers listed
in ``sphere_layers`` are held at ||W_l||_F = t (parameterized as W_l = t V_l / ||V_l||_F) and not
penalized: a feasible subset of the norm-constrained formulation, so the result still
upper-bounds that problem's optimum. Full-batch quasi-Newton (L-BFGS, float64) from several
Gaussian starts: every run is a local search, so the best objective upper-bounds the global
optimum and a certified global solution must never be beaten by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

__all__ = ["LocalSearchResult", "deep_objective", "train_deep_network"]


class LocalSearchResult(NamedTuple):
    """Best objective over the starts, its layers, and every start's final objective."""

    objective: float
    layers: list
    objectives: np.ndarray


def _forward(X, layers, relu):
    hidden, pre = [X], []
    for W in layers[:-1]:
        Z = hidden[-1] @ W
        pre.append(Z)
        hidden.append(np.maximum(Z, 0.0) if relu else Z)
    return hidden, pre, hidden[-1] @ layers[-1]


def deep_objective(X, Y, beta, layers, *, relu=False, penalized=None) -> float:
    """f(W_1, ..., W_L); ``penalized`` lists the layer indices under weight decay (default all)."""
    out = _forward(np.asarray(X, float), [np.asarray(W, float) for W in layers], relu)[2]
    idx = range(len(layers)) if penalized is None else penalized
    decay = sum(float(np.sum(np.asarray(layers[i]) ** 2)) for i in idx)
    return 0.5 * float(np.sum((out - Y) ** 2)) + 0.5 * beta * decay


def train_deep_network(
    X,
    Y,
    beta,
    widths: Sequence[int],
    *,
    relu=False,
    sphere_layers=(),
    t=1.0,
    n_starts=5,
    init_scale=1.0,
    max_iter=20000,
    random_state=0,
) -> LocalSearchResult:
    """Best of ``n_starts`` L-BFGS runs; hidden widths ``widths`` (depth = len(widths) + 1)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    scalar = Y.ndim == 1
    Y2 = Y[:, None] if scalar else Y
    shapes = list(zip([X.shape[1], *widths], [*widths, Y2.shape[1]]))
    sizes = [a * b for a, b in shapes]
    splits = np.cumsum(sizes)[:-1]
    sphere = set(sphere_layers)
    penalized = [i for i in range(len(shapes)) if i not in sphere]

    def unpack(theta):
        raw = [p.reshape(s) for p, s in zip(np.split(theta, splits), shapes)]
        layers = [t * V / np.linalg.norm(V) if i in sphere else V for i, V in enumerate(raw)]
        return raw, layers

    def fun(theta):
        raw, layers = unpack(theta)
        hidden, pre, out = _forward(X, layers, relu)
        G = out - Y2
        f = 0.5 * float(np.sum(G * G)) + 0.5 * beta * sum(
            float(np.sum(layers[i] ** 2)) for i in penalized
        )
        grads = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            grads[i] = hidden[i].T @ G + (beta * layers[i] if i not in sphere else 0.0)
            if i > 0:
                G = G @ layers[i].T
                if relu:
                    G = G * (pre[i - 1] > 0)
        for i in sphere:  # chain rule through W = t V / ||V||
            V = raw[i]
            norm = np.linalg.norm(V)
            unit = V / norm
            grads[i] = (t / norm) * (grads[i] - np.sum(grads[i] * unit) * unit)
        return f, np.concatenate([g.ravel() for g in grads])

    rng = np.random.default_rng(random_state)
    best, objectives = None, []
    for _ in range(n_starts):
        theta = np.concatenate(
            [init_scale * rng.standard_normal(a * b) / np.sqrt(a) for a, b in shapes]
        )
        res = minimize(
            fun,
            theta,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "maxfun": 2 * max_iter, "ftol": 1e-15, "gtol": 1e-11},
        )
        _, layers = unpack(res.x)
        f = deep_objective(X, Y2, beta, layers, relu=relu, penalized=penalized)
        objectives.append(f)
        if best is None or f < best[0]:
            best = (f, layers)
    layers = best[1]
    if scalar:
        layers = layers[:-1] + [layers[-1][:, 0]]
    return LocalSearchResult(best[0], layers, np.array(objectives))
