"""Non-convex training in numpy: full-batch gradient descent and Adam on chain networks.

A chain network has layers W_1 (g, m_1), ..., W_L (m_{L-1}, K) and output
f(X) = act(... act(X W_1) ...) W_L with act the identity (linear networks) or ReLU; a hidden bias
is a ones column in X (regularized like the weights, as everywhere in dualnet). The objective is
L(f(X), Y) + beta/2 sum_l ||W_l||_F^2 over the penalized layers (docs/theory.md section 1), with
L the squared loss 1/2 ||f(X) - Y||_F^2 by default or any loss of
:func:`dualnet.duality.losses.get_loss` (``loss=``); layers listed in ``constrained`` are instead
kept in the Frobenius ball of radius t by projection (formulation B of section 4).

One trainer serves the library (the network that seeds column generation,
:mod:`dualnet._local_search`) and the experiments of :mod:`dualnet.experiments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Trace", "adam", "adam_then_descent", "gradient_descent", "objective",
           "random_layers"]

_SCHEDULES = ("inverse_sqrt", "linear", "constant")


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


def _forward(X, layers, relu, work=None):
    """Hidden layers [X, h_1, ..., h_{L-1}] and the output. ``work`` (a dict kept across calls)
    holds the (n, m_l) arrays, reused from step to step: a fresh large array per product costs
    more than the product on some systems (page faults of newly mapped memory)."""
    hidden = [X]
    for k, W in enumerate(layers[:-1]):
        if work is None:
            z = hidden[-1] @ W
            hidden.append(np.maximum(z, 0.0) if relu else z)
            continue
        shape = (hidden[-1].shape[0], W.shape[1])
        if work.get(("z", k), np.empty(0)).shape != shape:
            work[("z", k)] = np.empty(shape)
            work[("h", k)] = np.empty(shape) if relu else work[("z", k)]
        z = np.matmul(hidden[-1], W, out=work[("z", k)])
        hidden.append(np.maximum(z, 0.0, out=work[("h", k)]) if relu else z)
    return hidden, hidden[-1] @ layers[-1]


def _loss(loss):
    """The Loss object of ``loss`` (None: the squared loss)."""
    from .duality.losses import get_loss

    return get_loss("squared" if loss is None else loss)


def objective(X, Y, layers, beta, *, relu, penalized=None, loss=None) -> float:
    """L(f(X), Y) + beta/2 sum of squared Frobenius norms of the penalized layers (L: the
    squared loss 1/2 ||f(X) - Y||^2 unless ``loss`` names another)."""
    _, out = _forward(X, layers, relu)
    penalized = range(len(layers)) if penalized is None else penalized
    decay = sum(float(np.sum(layers[i] ** 2)) for i in penalized)
    return _loss(loss).value(out, Y) + 0.5 * beta * decay


def _gradients(X, Y, layers, beta, relu, penalized, loss, work=None):
    hidden, out = _forward(X, layers, relu, work)
    G = loss.gradient(out, Y)
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads[i] = hidden[i].T @ G
        if i in penalized:
            grads[i] = grads[i] + beta * layers[i]
        if i:
            if G.shape[1] == 1 and relu and i == 1:
                # The first layer of a scalar-output network: X^T ((G a^T) * 1[h > 0]) is
                # ((X * G)^T 1[h > 0]) * a^T, one pass over the (n, m) array (the mask, into
                # the buffer of z when there is one) instead of three, and an (n, g) product.
                mask = np.empty(hidden[1].shape) if work is None else work[("z", 0)]
                np.greater(hidden[1], 0.0, out=mask, casting="unsafe")
                grads[0] = ((hidden[0] * G).T @ mask) * layers[1].T
                if 0 in penalized:
                    grads[0] = grads[0] + beta * layers[0]
                break
            if work is None:
                G = G @ layers[i].T
                if relu:
                    G = G * (hidden[i] > 0)
                continue
            # back-propagated into the buffer of z_i (no longer needed this step)
            if G.shape[1] == 1:  # an outer product: elementwise, cheaper than a matmul
                G = np.multiply(G, layers[i].T, out=work[("z", i - 1)])
            else:
                G = np.matmul(G, layers[i].T, out=work[("z", i - 1)])
            if relu:
                G = np.multiply(G, hidden[i] > 0, out=G)
    return grads


def _marks(steps, record):
    """About ``record`` steps to record, log-spaced (the fast early phase) and evenly spaced;
    only the last step when ``record`` is 0."""
    if not record:
        return {steps}
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
                     constrained=(), t=1.0, snapshot_at=(), loss=None) -> Trace:
    """Full-batch gradient descent with an adaptive step: a step that raises the objective is
    retried with half the step size, an accepted one lets the step grow by 5 % (monotone for
    linear networks; ReLU networks take a small plain step where no step size decreases the
    objective, at a kink). It records the objective at about ``record`` steps, log- and evenly
    spaced.

    Parameters
    ----------
    X : ndarray (n, g); Y : ndarray (n, K); layers : list of ndarrays (not changed)
    beta : float
    relu : bool
    steps : int
    lr : float
        Initial step size.
    constrained : sequence of int
        Layers kept in the Frobenius ball of radius ``t`` (not penalized).
    loss : None, str or Loss
        The data term (None: the squared loss).
    """
    fn = _loss(loss)
    layers = [np.array(W, dtype=np.float64) for W in layers]
    penalized = [i for i in range(len(layers)) if i not in constrained]
    layers = _project(layers, constrained, t)
    lr0 = lr
    value = objective(X, Y, layers, beta, relu=relu, penalized=penalized, loss=fn)
    marks = _marks(steps, record)
    recorded_steps, values, snapshots = [0], [value], []
    snapshot_at = set(snapshot_at)
    for step in range(1, steps + 1):
        grads = _gradients(X, Y, layers, beta, relu, penalized, fn)
        for _ in range(40):
            trial = _project([W - lr * G for W, G in zip(layers, grads)], constrained, t)
            new = objective(X, Y, trial, beta, relu=relu, penalized=penalized, loss=fn)
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
            new = objective(X, Y, trial, beta, relu=relu, penalized=penalized, loss=fn)
        layers, value = trial, new
        if step in marks:
            recorded_steps.append(step)
            values.append(value)
        if step in snapshot_at:
            snapshots.append((step, [W.copy() for W in layers]))
    return Trace(np.array(recorded_steps), np.array(values), tuple(layers), tuple(snapshots))


def adam(X, Y, layers, beta, *, relu, steps, lr=1e-2, record=200, decay=True,
         snapshot_at=(), eps=1e-12, loss=None) -> Trace:
    """Full-batch Adam (Kingma & Ba, ICLR 2015) on the same objective (weight decay in the
    objective, not decoupled).

    Parameters
    ----------
    X, Y, layers, beta, relu, steps, snapshot_at, loss
        As in :func:`gradient_descent`.
    lr : float
        Base step size.
    record : int
        About this many steps whose objective is recorded (log- and evenly spaced); 0 records
        the start and the last step only.
    decay : bool or {"inverse_sqrt", "linear", "constant"}
        Step size schedule: lr / sqrt(1 + step / 100) (``True``, ``"inverse_sqrt"``),
        lr (1 - (step - 1) / steps), reaching zero at the end (``"linear"``), or lr
        (``False``, ``"constant"``).
    eps : float
        Adam's denominator guard.
    """
    schedule = {True: "inverse_sqrt", False: "constant"}.get(decay, decay)
    if schedule not in _SCHEDULES:
        raise ValueError(f"decay must be a bool or one of {_SCHEDULES}, got {decay!r}")
    fn = _loss(loss)
    layers = [np.array(W, dtype=np.float64) for W in layers]
    penalized = range(len(layers))
    m = [np.zeros_like(W) for W in layers]
    v = [np.zeros_like(W) for W in layers]
    b1, b2 = 0.9, 0.999
    marks = _marks(steps, record)
    recorded_steps = [0]
    values = [objective(X, Y, layers, beta, relu=relu, loss=fn)]
    snapshots = []
    snapshot_at = set(snapshot_at)
    work = {}
    for step in range(1, steps + 1):
        grads = _gradients(X, Y, layers, beta, relu, penalized, fn, work)
        if schedule == "inverse_sqrt":
            rate = lr / np.sqrt(1.0 + step / 100.0)
        elif schedule == "linear":
            rate = lr * (1.0 - (step - 1) / steps)
        else:
            rate = lr
        for i, G in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * G
            v[i] = b2 * v[i] + (1 - b2) * G * G
            mhat = m[i] / (1 - b1**step)
            vhat = v[i] / (1 - b2**step)
            layers[i] = layers[i] - rate * mhat / (np.sqrt(vhat) + eps)
        if step in marks:
            recorded_steps.append(step)
            values.append(objective(X, Y, layers, beta, relu=relu, loss=fn))
        if step in snapshot_at:
            snapshots.append((step, [W.copy() for W in layers]))
    return Trace(np.array(recorded_steps), np.array(values), tuple(layers), tuple(snapshots))


def adam_then_descent(X, Y, layers, beta, *, relu, adam_steps, descent_steps, lr=1e-2,
                      record=200, loss=None) -> Trace:
    """Adam (decaying step) to get near a good minimum, then adaptive gradient descent to polish
    it; one trace with the steps of both phases."""
    first = adam(X, Y, layers, beta, relu=relu, steps=adam_steps, lr=lr, record=record, loss=loss)
    second = gradient_descent(X, Y, list(first.layers), beta, relu=relu, steps=descent_steps,
                              lr=lr * 0.1, record=max(1, record // 4), loss=loss)
    return Trace(np.concatenate([first.steps, adam_steps + second.steps[1:]]),
                 np.concatenate([first.objectives, second.objectives[1:]]), second.layers)
