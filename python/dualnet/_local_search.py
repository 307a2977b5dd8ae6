"""A short local search on the non-convex network, used to seed column generation.

Full-batch Adam (Kingma & Ba, ICLR 2015; :func:`dualnet._training.adam`) on the weight-decay
objective

    1/2 ||(X U)_+ a - y||^2 + beta/2 (||U||_F^2 + ||a||^2)

for a fixed number of steps. Its only role is to propose activation patterns (and a feasible
starting point) for the convex program: the convex solve over the network's own patterns is
never worse than the network, and pricing then adds what the local search missed. The problem is
solved in rescaled units, so that one learning rate suits every data scale: with Xa = r X',
y = s y' (r, s the root-mean-square row norm and target) and (U, a) = sqrt(s / r) (U', a'), the
objective is s^2 times the same objective in primed units with beta' = beta / (r s) (the
network is positively homogeneous of degree 2 in (U, a) and linear in X).
"""

from __future__ import annotations

import numpy as np

from ._training import adam

__all__ = ["train_network"]

#: Hidden neurons of the seeding network.
DEFAULT_WIDTH = 64
#: Adam steps of the seeding network.
DEFAULT_STEPS = 2000
_LEARNING_RATE = 5e-2


def train_network(Xa, y, beta, rng, *, width=DEFAULT_WIDTH, steps=DEFAULT_STEPS,
                  loss="squared"):
    """Adam on the weight-decay objective; returns (first_layer (g, m), second_layer (m,)).

    ``Xa`` (n, g) already holds the ones column when a bias is used. The learning rate decays
    linearly to zero over ``steps`` (:func:`dualnet._training.adam`). A loss other than the
    squared one takes y as it is (s = 1: only the squared loss is homogeneous in y).
    """
    g = Xa.shape[1]
    r = float(np.sqrt(np.mean(np.sum(Xa * Xa, axis=1)))) or 1.0
    s = (float(np.sqrt(np.mean(y * y))) or 1.0) if loss == "squared" else 1.0
    U = rng.standard_normal((g, width))  # X rows have unit mean square norm: O(1) products
    a = rng.standard_normal((width, 1)) / np.sqrt(width)
    trace = adam(Xa / r, (y / s)[:, None], [U, a], beta / (r * s), relu=True, steps=steps,
                 lr=_LEARNING_RATE, record=0, decay="linear", eps=1e-8, loss=loss)
    U, a = trace.layers
    scale = np.sqrt(s / r)  # back to the original units
    return U * scale, a[:, 0] * scale
