"""Two-layer ReLU networks in weight-decay form and their link to the convex program.

A network of width m is a pair (first_layer U of shape (g, m), second_layer a of shape (m,)) with
output (X U)_+ a; X already holds the ones column when a bias is used. The convex program of
Pilanci & Ergen (ICML 2020) works with blocks v_i, w_i (columns of (g, P) arrays), one pair per
activation pattern D_i; see the theory notes, section 7.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cone_decomposition",
    "cone_decomposition_of_patterns",
    "map_back",
    "relu_network_objective",
    "relu_network_predict",
]


def relu_network_predict(X, first_layer, second_layer) -> np.ndarray:
    """Output (X U)_+ a of the network, shape (n,).

    Parameters
    ----------
    X : ndarray of shape (n, g)
        Data, with the ones column already appended when the network has a bias.
    first_layer : ndarray of shape (g, m)
    second_layer : ndarray of shape (m,)
    """
    return np.maximum(X @ first_layer, 0.0) @ second_layer


def relu_network_objective(X, y, beta, first_layer, second_layer) -> float:
    """Weight-decay training objective of a two-layer ReLU network.

    1/2 ||sum_j (X u_j)_+ a_j - y||^2 + beta/2 sum_j (||u_j||^2 + a_j^2).

    Parameters
    ----------
    X : ndarray of shape (n, g)
        Data, with the ones column already appended when the network has a bias (the bias is
        then regularized like the other weights).
    y : ndarray of shape (n,)
    beta : float
    first_layer : ndarray of shape (g, m)
    second_layer : ndarray of shape (m,)
    """
    residual = relu_network_predict(X, first_layer, second_layer) - y
    weight_decay = np.sum(first_layer * first_layer) + second_layer @ second_layer
    return float(0.5 * residual @ residual + 0.5 * beta * weight_decay)


def map_back(v, w=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact map from convex blocks to a ReLU network (theory section 7).

    Each nonzero block v_i gives the neuron u = v_i / sqrt(||v_i||) with output weight
    a = +sqrt(||v_i||), each nonzero w_i the neuron w_i / sqrt(||w_i||) with a = -sqrt(||w_i||).
    The norms balance (|a_j| = ||u_j||), so the weight decay beta/2 (||u||^2 + a^2) equals
    beta ||v_i||, and when v_i, w_i lie in their pattern cones the network's output equals
    sum_i D_i X (v_i - w_i): the non-convex objective equals the convex one.

    Parameters
    ----------
    v, w : ndarray of shape (g, P)
        Blocks of the convex program (``w=None`` means zero).

    Returns
    -------
    first_layer : ndarray of shape (g, m)
        Neurons from the nonzero columns of v (in column order), then of w; m is the number of
        nonzero blocks.
    second_layer : ndarray of shape (m,)
    """
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"v must be 2-D with shape (g, P), got shape {v.shape}")
    w = np.zeros_like(v) if w is None else np.asarray(w, dtype=np.float64)
    if w.shape != v.shape:
        raise ValueError(f"w has shape {w.shape} but v has shape {v.shape}")
    neurons, weights = [], []
    for blocks, sign in ((v, 1.0), (w, -1.0)):
        norms = np.linalg.norm(blocks, axis=0)
        active = norms > 0
        scale = np.sqrt(norms[active])
        neurons.append(blocks[:, active] / scale)
        weights.append(sign * scale)
    return np.hstack(neurons), np.concatenate(weights)


def cone_decomposition(X, masks, gates, u) -> tuple[np.ndarray, np.ndarray]:
    """Split gated blocks u_i into v_i - w_i with v_i, w_i in the pattern cone K_i.

    K_i = {z : (2 D_i - I) X z >= 0}. With a strictly interior gate g_i of K_i, take
    w_i = tau g_i and v_i = u_i + tau g_i with the smallest tau >= 0 that puts v_i in K_i
    (Mishkin, Sahiner & Pilanci, ICML 2022; theory section 7). Blocks already in K_i (or in -K_i)
    are kept as v_i (or w_i) unchanged. The predictions sum_i D_i X (v_i - w_i) equal those of u;
    the norms ||v_i|| + ||w_i|| are larger than ||u_i|| whenever tau > 0.

    Parameters
    ----------
    X : ndarray of shape (n, g)
    masks : ndarray of shape (n, P), bool
        The diagonals of the D_i.
    gates : ndarray of shape (g, P)
        A gate per pattern, strictly inside its cell (needed only for the blocks that lie in
        neither K_i nor -K_i).
    u : ndarray of shape (g, P)
        Gated blocks.

    Returns
    -------
    v, w : ndarray of shape (g, P)

    Raises
    ------
    ValueError
        If a block needs its gate and the gate is unknown (NaN) or not strictly interior.
    """
    X = np.asarray(X, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    gates = np.asarray(gates, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    n, g = X.shape
    if masks.ndim != 2 or masks.shape[0] != n:
        raise ValueError(f"masks must have shape ({n}, P), got {masks.shape}")
    P = masks.shape[1]
    for name, arr in (("gates", gates), ("u", u)):
        if arr.shape != (g, P):
            raise ValueError(f"{name} must have shape ({g}, {P}), got {arr.shape}")
    v = np.zeros_like(u)
    w = np.zeros_like(u)
    for i in np.flatnonzero(np.any(u != 0, axis=0)):
        # A z = (2 D_i - I) X z: X z with the rows outside the pattern negated in place (no
        # (n, P) array of signs and no second length-n temporary).
        outside = ~masks[:, i]
        Au = X @ u[:, i]
        np.negative(Au, out=Au, where=outside)
        if np.all(Au >= 0):
            v[:, i] = u[:, i]
            continue
        if np.all(Au <= 0):
            w[:, i] = -u[:, i]
            continue
        Ag = X @ gates[:, i]
        np.negative(Ag, out=Ag, where=outside)
        violated = Au < 0
        if not np.all(Ag[violated] > 0):  # NaN gates fail this test too
            raise ValueError(
                f"gates[:, {i}] is unknown or not strictly inside the cell of pattern {i}, "
                "so the gated block cannot be decomposed into cone-feasible blocks"
            )
        tau = np.max(-Au[violated] / Ag[violated])
        v[:, i] = u[:, i] + tau * gates[:, i]
        w[:, i] = tau * gates[:, i]
    return v, w


def cone_decomposition_of_patterns(X, pattern_set, index, u) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cone_decomposition` of blocks u (g, m) whose column j belongs to pattern
    ``index[j]`` of the bit-packed ``pattern_set`` (repeats allowed).

    One pattern's mask (n,) is unpacked at a time, for the nonzero columns only: never the dense
    (n, P) masks. Errors name the pattern index.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.zeros_like(u)
    w = np.zeros_like(u)
    gates = pattern_set.gates()
    for j in np.flatnonzero(np.any(u != 0, axis=0)):
        i = int(index[j])
        mask = pattern_set.mask(i)[:, None]
        try:
            v_j, w_j = cone_decomposition(X, mask, gates[:, i:i + 1], u[:, j:j + 1])
        except ValueError as exc:
            message = str(exc).replace("[:, 0]", f"[:, {i}]").replace("pattern 0", f"pattern {i}")
            raise ValueError(message) from None
        v[:, j], w[:, j] = v_j[:, 0], w_j[:, 0]
    return v, w
