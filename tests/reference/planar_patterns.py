"""Complete activation-pattern sets of two-column data by angular sort (numpy only).

For rows z_k in R^2 the hyperplanes z_k^T g = 0 are lines through the origin; the open cells of the
arrangement are the open arcs between consecutive line directions on the circle. The midpoint of
each arc is a strictly interior gate, and D = diag(1[Z g >= 0]) its pattern. With two columns
(d = 2, or d = 1 plus the ones column of a bias) this is every pattern, degenerate rows included:
zero rows have no line, and repeated or sign-flipped rows give the same line.
"""

from __future__ import annotations

import numpy as np

__all__ = ["planar_patterns"]


def planar_patterns(Z) -> tuple[np.ndarray, np.ndarray]:
    """Return (masks (n, P) bool, gates (2, P)) of all open cells of the rows of Z (n, 2)."""
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise ValueError(f"Z must have two columns, got shape {Z.shape}")
    nonzero = np.linalg.norm(Z, axis=1) > 0
    if not np.any(nonzero):
        return np.ones((Z.shape[0], 1), dtype=bool), np.array([[1.0], [0.0]])
    normal = np.arctan2(Z[nonzero, 1], Z[nonzero, 0])
    boundaries = np.concatenate([normal + np.pi / 2, normal - np.pi / 2]) % (2 * np.pi)
    boundaries = np.sort(boundaries)
    # Merge directions equal up to rounding (repeated or sign-flipped rows).
    keep = np.concatenate([[True], np.diff(boundaries) > 1e-12])
    boundaries = boundaries[keep]
    if boundaries[-1] - boundaries[0] > 2 * np.pi - 1e-12:
        boundaries = boundaries[:-1]
    following = np.append(boundaries[1:], boundaries[0] + 2 * np.pi)
    angles = 0.5 * (boundaries + following)
    gates = np.vstack([np.cos(angles), np.sin(angles)])
    products = Z @ gates
    assert np.all(np.abs(products[nonzero]) > 1e-12), "a gate lies on a hyperplane"
    return products >= 0, gates
