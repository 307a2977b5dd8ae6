"""Non-convex training in numpy: full-batch gradient descent (and Adam) on chain networks.

A chain network has layers W_1 (g, m_1), ..., W_L (m_{L-1}, K) and output
f(X) = act(... act(X W_1) ...) W_L with act the identity (linear networks) or ReLU; a hidden bias
is a ones column in X (regularized like the weights, as everywhere in dualnet). The objective is
1/2 ||f(X) - Y||_F^2 + beta/2 sum_l ||W_l||_F^2 over the penalized layers (docs/theory.md
section 1); layers listed in ``constrained`` are instead kept in the Frobenius ball of radius t
by projection (formulation B of section 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Trace", "adam", "gradient_descent", "objective", "random_layers"]


@dataclass(frozen=True)
class Trace:
    """A training run: objective at each recorded step and the final layers."""

    steps: np.ndarray
    objectives: np.ndarray
    layers: tuple
    snapshots: tuple = ()

    @property
    def final(self) -> float:
        return float(self.objectives[-1])


def random_layers(rng, sizes, scale=0.5):
    """Gaussian layers of the given sizes [g, m_1, ..., K], entries N(0, scale^2 / fan-in)."""
    return [scale * rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]


def _forward(X, layers, relu):
    hidden = [X]
    for W in layers[:-1]:
        z = hidden[-1] @ W
        hidden.append(np.maximum(z, 0.0) if relu else z)
    return hidden, hidden[-1] @ layers[-1]


def objective(X, Y, layers, beta, *, relu, penalized=None) -> float:
    """1/2 ||f(X) - Y||^2 + beta/2 sum of squared Frobenius norms of the penalized layers."""
    _, out = _forward(X, layers, relu)
    penalized = range(len(layers)) if penalized is None else penalized
    decay = sum(float(np.sum(layers[i] ** 2)) for i in penalized)
    return 0.5 * float(np.sum((out - Y) ** 2)) + 0.5 * beta * decay


def _gradients(X, Y, layers, beta, relu, penalized):
    hidden, out = _forward(X, layers, relu)
    G = out - Y
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads[i] = hidden[i].T @ G
        if i in penalized:
            grads[i] = grads[i] + beta * layers[i]
        if i:
            G = G @ layers[i].T
            if relu:
                G = G * (hidden[i] > 0)
    return grads


def _marks(steps, record):
    """About ``record`` steps to record, log-spaced (the fast early phase) and evenly spaced."""
    half = max(2, record // 2)
    marks = np.concatenate([np.geomspace(1, steps, half), np.linspace(1, steps, half)])
    return set(np.unique(marks.astype(int)).tolist()) | {steps}


def _project(layers, constrained, t):
    for i in constrained:
        norm = np.linalg.norm(layers[i])
        if norm > t:
            layers[i] = layers[i] * (t / norm)
    return layers


def gradient_descent(X, Y, layers, beta, *, relu, steps, lr=1e-2, record=200,
                     constrained=(), t=1.0, snapshot_at=()) -> Trace:
    """Full-batch gradient descent with an adaptive step: a step that raises the objective is
    retried with half the step size, an accepted one lets the step grow by 5 % (monotone for
    linear networks; ReLU networks take a small plain step where no step size decreases the
    objective, at a kink). It records the objective at about ``record`` steps, log- and evenly
    spaced.

    Parameters
    ----------
    X : ndarray (n, g); Y : ndarray (n, K); layers : list of ndarrays (changed in place)
    beta : float
    relu : bool
    steps : int
    lr : float
        Initial step size.
    constrained : sequence of int
        Layers kept in the Frobenius ball of radius ``t`` (not penalized).
    snapshot_at : sequence of int
        Steps at which a copy of the layers is kept (in ``Trace.snapshots``).
    """
    layers = [np.array(W, dtype=np.float64) for W in layers]
    penalized = [i for i in range(len(layers)) if i not in constrained]
    layers = _project(layers, constrained, t)
    lr0 = lr
    value = objective(X, Y, layers, beta, relu=relu, penalized=penalized)
    marks = _marks(steps, record)
    recorded_steps, values, snapshots = [0], [value], []
    snapshot_at = set(snapshot_at)
    for step in range(1, steps + 1):
        grads = _gradients(X, Y, layers, beta, relu, penalized)
        for _ in range(40):
            trial = _project([W - lr * G for W, G in zip(layers, grads)], constrained, t)
            new = objective(X, Y, trial, beta, relu=relu, penalized=penalized)
            if new <= value:
                lr *= 1.05
                break
            lr *= 0.5
        else:
            # No decrease along the gradient: a ReLU kink (the objective is not differentiable
            # where a neuron switches on a data point) or a stationary point to rounding. Take a
            # small plain step, as gradient descent would, and restart the step-size search.
            if not relu:
                break
            lr = lr0
            trial = _project([W - 1e-2 * lr * G for W, G in zip(layers, grads)], constrained, t)
            new = objective(X, Y, trial, beta, relu=relu, penalized=penalized)
        layers, value = trial, new
        if step in marks:
            recorded_steps.append(step)
            values.append(value)
        if step in snapshot_at:
            snapshots.append((step, [W.copy() for W in layers]))
    return Trace(np.array(recorded_steps), np.array(values), tuple(layers), tuple(snapshots))


def adam(X, Y, layers, beta, *, relu, steps, lr=1e-2, record=200, decay=True,
         snapshot_at=()) -> Trace:
    """Full-batch Adam on the same objective (weight decay in the objective, not decoupled);
    the step size decays as lr / sqrt(1 + step / 100) when ``decay``."""
    layers = [np.array(W, dtype=np.float64) for W in layers]
    penalized = range(len(layers))
    m = [np.zeros_like(W) for W in layers]
    v = [np.zeros_like(W) for W in layers]
    b1, b2, eps = 0.9, 0.999, 1e-12
    marks = _marks(steps, record)
    recorded_steps = [0]
    values = [objective(X, Y, layers, beta, relu=relu)]
    snapshots = []
    snapshot_at = set(snapshot_at)
    for step in range(1, steps + 1):
        grads = _gradients(X, Y, layers, beta, relu, penalized)
        rate = lr / np.sqrt(1.0 + step / 100.0) if decay else lr
        for i, G in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * G
            v[i] = b2 * v[i] + (1 - b2) * G * G
            mhat = m[i] / (1 - b1**step)
            vhat = v[i] / (1 - b2**step)
            layers[i] = layers[i] - rate * mhat / (np.sqrt(vhat) + eps)
        if step in marks:
            recorded_steps.append(step)
            values.append(objective(X, Y, layers, beta, relu=relu))
        if step in snapshot_at:
            snapshots.append((step, [W.copy() for W in layers]))
    return Trace(np.array(recorded_steps), np.array(values), tuple(layers), tuple(snapshots))


def adam_then_descent(X, Y, layers, beta, *, relu, adam_steps, descent_steps, lr=1e-2,
                      record=200) -> Trace:
    """Adam (decaying step) to get near a good minimum, then adaptive gradient descent to polish
    it; one trace with the steps of both phases."""
    first = adam(X, Y, layers, beta, relu=relu, steps=adam_steps, lr=lr, record=record)
    second = gradient_descent(X, Y, list(first.layers), beta, relu=relu, steps=descent_steps,
                              lr=lr * 0.1, record=max(1, record // 4))
    return Trace(np.concatenate([first.steps, adam_steps + second.steps[1:]]),
                 np.concatenate([first.objectives, second.objectives[1:]]), second.layers)
