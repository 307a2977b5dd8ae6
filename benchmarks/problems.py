"""Benchmark problems and the one evaluation applied to every library's answer.

Everything here uses numpy and scipy only, so that every benchmark environment (including one
pinned to numpy < 2) can import it.

Programs (notation of the theory notes, section 7; loss 1/2||.||^2 summed, penalty beta * norms):

    gated:  min_u  1/2|| sum_i D_i X u_i - y ||^2 + beta sum_i ||u_i||
    relu:   min_{v,w} 1/2|| sum_i D_i X (v_i - w_i) - y ||^2 + beta sum_i (||v_i|| + ||w_i||)
            s.t. (2 D_i - I) X v_i >= 0, (2 D_i - I) X w_i >= 0

Solutions are exchanged as blocks ``v`` and ``w`` of shape (d, P) in the problem's pattern order
(``w`` is zero for the gated program).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Problem",
    "make_problem",
    "save_problem",
    "load_problem",
    "predictions",
    "primal_objective",
    "cone_violation",
    "certify",
    "feasible_dual_value",
]


@dataclass(frozen=True)
class Problem:
    """One benchmark instance shared by every library.

    Attributes
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    gates : ndarray, shape (d, P)
        One Gaussian gate per pattern; ``masks[:, i] == (X @ gates[:, i] >= 0)``.
    masks : ndarray of bool, shape (n, P)
        Distinct, non-empty activation patterns D_i, in the order they were drawn.
    beta : float
        Penalty strength (summed-loss convention).
    seed : int
    near_duplicates : int
        How many of the P patterns are neighbours of sampled ones (``near_duplicate_patterns``).
    """

    X: np.ndarray
    y: np.ndarray
    gates: np.ndarray
    masks: np.ndarray
    beta: float
    seed: int
    near_duplicates: int = 0

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, d, P)."""
        n, d = self.X.shape
        return n, d, self.masks.shape[1]

    @property
    def name(self) -> str:
        n, d, p = self.shape
        suffix = f" ({self.near_duplicates} near-duplicates)" if self.near_duplicates else ""
        return f"{n}x{d}x{p}{suffix}"


def _planted_targets(X: np.ndarray, rng: np.random.Generator, width: int, noise: float) -> np.ndarray:
    """Targets of a random two-layer ReLU network (``width`` neurons) plus Gaussian noise."""
    d = X.shape[1]
    first = rng.standard_normal((d, width)) / np.sqrt(d)
    second = rng.choice([-1.0, 1.0], size=width) * (1.0 + rng.random(width))
    clean = np.maximum(X @ first, 0.0) @ second
    return clean + noise * np.std(clean) * rng.standard_normal(X.shape[0])


def sample_distinct_patterns(
    X: np.ndarray, n_patterns: int, rng: np.random.Generator, max_rounds: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian gates g ~ N(0, I), keeping the first gate of every new non-empty pattern.

    Returns ``(gates (d, P), masks (n, P))``. Duplicate and all-zero patterns are dropped here so
    that no library filters (and thereby reorders or shrinks) the set on its own.
    """
    n, d = X.shape
    seen: set[bytes] = set()
    gates, masks = [], []
    for _ in range(max_rounds):
        batch = rng.standard_normal((d, 2 * n_patterns))
        batch_masks = X @ batch >= 0
        for j in range(batch.shape[1]):
            column = batch_masks[:, j]
            if not column.any():
                continue
            key = np.packbits(column).tobytes()
            if key in seen:
                continue
            seen.add(key)
            gates.append(batch[:, j])
            masks.append(column)
            if len(gates) == n_patterns:
                return np.array(gates).T.copy(), np.array(masks).T.copy()
    raise ValueError(f"only {len(gates)} distinct patterns found, {n_patterns} requested")


def near_duplicate_patterns(
    X: np.ndarray, gates: np.ndarray, masks: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` new patterns a few rows away from given ones, with gates that realise them.

    A gate u is moved just across the hyperplane of one of its rows of smallest margin |x_k^T u|
    (u' = u - (x_k^T u (1 + 1e-6)) x_k / ||x_k||^2), which flips that row and at most the few rows
    of even smaller margin. Such patterns are what column generation adds (cells next to the
    current ones); their blocks D_i X are nearly collinear, the hard case for block coordinate
    methods. Returns ``(gates (d, count), masks (n, count))``, distinct from each other and from
    ``masks``.
    """
    seen = {np.packbits(masks[:, j]).tobytes() for j in range(masks.shape[1])}
    new_gates, new_masks = [], []
    norms = np.einsum("nd,nd->n", X, X)
    for _ in range(20):
        for j in rng.permutation(gates.shape[1]):
            u = gates[:, j]
            margins = X @ u
            for k in np.argsort(np.abs(margins) / np.sqrt(norms))[: 3]:
                moved = u - margins[k] * (1.0 + 1e-6) * X[k] / norms[k]
                column = X @ moved >= 0
                key = np.packbits(column).tobytes()
                if not column.any() or key in seen:
                    continue
                seen.add(key)
                new_gates.append(moved)
                new_masks.append(column)
                if len(new_gates) == count:
                    return np.array(new_gates).T.copy(), np.array(new_masks).T.copy()
    raise ValueError(f"only {len(new_gates)} near-duplicate patterns found, {count} requested")


def make_problem(
    n: int,
    d: int,
    n_patterns: int,
    *,
    seed: int = 0,
    beta_fraction: float = 0.05,
    teacher_width: int = 5,
    noise: float = 0.1,
    near_duplicates: int = 0,
) -> Problem:
    """Planted-network regression problem with sampled Gaussian gates.

    X has i.i.d. N(0, 1) entries; y is the output of a random ReLU network of ``teacher_width``
    neurons plus noise of ``noise`` times its standard deviation; patterns come from Gaussian gates
    (``sample_distinct_patterns``); beta = ``beta_fraction`` * max_i ||X^T D_i y||, the smallest
    penalty at which the gated solution is zero. With ``near_duplicates`` > 0, that many of the
    ``n_patterns`` are neighbours of the sampled ones (``near_duplicate_patterns``), appended last.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = _planted_targets(X, rng, teacher_width, noise)
    if not 0 <= near_duplicates < n_patterns:
        raise ValueError(f"near_duplicates must be in [0, {n_patterns}), got {near_duplicates}")
    gates, masks = sample_distinct_patterns(X, n_patterns - near_duplicates, rng)
    if near_duplicates:
        near_gates, near_masks = near_duplicate_patterns(X, gates, masks, near_duplicates, rng)
        gates, masks = np.hstack([gates, near_gates]), np.hstack([masks, near_masks])
    beta_max = float(np.max(np.linalg.norm(X.T @ (masks * y[:, None]), axis=0)))
    return Problem(X, y, gates, masks, beta_fraction * beta_max, seed, near_duplicates)


def save_problem(problem: Problem, path) -> None:
    """Write a problem to an ``.npz`` file (read back by ``load_problem``)."""
    np.savez(
        path,
        X=problem.X,
        y=problem.y,
        gates=problem.gates,
        masks=problem.masks,
        beta=problem.beta,
        seed=problem.seed,
        near_duplicates=problem.near_duplicates,
    )


def load_problem(path) -> Problem:
    """Read a problem written by ``save_problem``."""
    with np.load(path) as data:
        return Problem(
            np.ascontiguousarray(data["X"]),
            np.ascontiguousarray(data["y"]),
            np.ascontiguousarray(data["gates"]),
            np.ascontiguousarray(data["masks"]),
            float(data["beta"]),
            int(data["seed"]),
            int(data["near_duplicates"]) if "near_duplicates" in data else 0,
        )


def predictions(problem: Problem, v: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """sum_i D_i X (v_i - w_i), shape (n,)."""
    u = v if w is None else v - w
    return np.einsum("np,np->n", problem.X @ u, problem.masks)


def _penalty(v: np.ndarray, w: np.ndarray | None) -> float:
    total = float(np.sum(np.linalg.norm(v, axis=0)))
    if w is not None:
        total += float(np.sum(np.linalg.norm(w, axis=0)))
    return total


def primal_objective(problem: Problem, v: np.ndarray, w: np.ndarray | None = None) -> float:
    """1/2||sum_i D_i X (v_i - w_i) - y||^2 + beta sum_i (||v_i|| + ||w_i||)."""
    r = problem.y - predictions(problem, v, w)
    return 0.5 * float(r @ r) + problem.beta * _penalty(v, w)


def cone_violation(problem: Problem, v: np.ndarray, w: np.ndarray) -> float:
    """Largest violation of (2 D_i - I) X v_i >= 0 (and w_i), relative to max |X v_i|, |X w_i|."""
    signs = np.where(problem.masks, 1.0, -1.0)
    worst, scale = 0.0, 0.0
    for blocks in (v, w):
        z = problem.X @ blocks
        worst = max(worst, float(np.max(np.maximum(-signs * z, 0.0), initial=0.0)))
        scale = max(scale, float(np.max(np.abs(z), initial=0.0)))
    return worst / scale if scale > 0 else 0.0


def _cone_dual_norm_bound(A: np.ndarray, c: np.ndarray, max_rounds: int = 100) -> float:
    """Certified upper bound on max_{u : A u >= 0, ||u|| <= 1} c^T u, shape A (n, d), c (d,).

    By Moreau's decomposition the maximum equals ||Proj_K(c)|| = min_{mu >= 0} ||c + A^T mu||
    (theory notes, section 7), and any mu >= 0 gives an upper bound. The multipliers are found by
    constraint generation: NNLS (scipy) on a small set S of rows gives u = c + A_S^T mu_S, the
    projection onto the larger cone {A_S u >= 0}; the rows u violates most join S until u is
    feasible for all rows, when the bound is exact. The bound is always evaluated from the returned
    mu >= 0, so it stays valid whatever the accuracy of the NNLS solver.
    """
    from scipy.optimize import nnls

    norm_c = float(np.linalg.norm(c))
    slack = A @ c
    if slack.min() >= 0.0:  # c lies in the cone: the bound ||c|| is exact
        return norm_c
    row_norms = np.linalg.norm(A, axis=1)
    batch = 2 * A.shape[1]
    chosen = np.zeros(A.shape[0], dtype=bool)
    chosen[np.argsort(slack / np.maximum(row_norms, 1e-300))[:batch]] = True
    best = norm_c
    for _ in range(max_rounds):
        rows = np.flatnonzero(chosen)
        try:
            mu, _ = nnls(A[rows].T, -c, maxiter=100 * rows.size)
        except RuntimeError:
            break
        u = c + A[rows].T @ np.maximum(mu, 0.0)
        best = min(best, float(np.linalg.norm(u)))
        violation = (A @ u) / np.maximum(row_norms, 1e-300)
        violated = ~chosen & (violation < -1e-12 * norm_c)
        if not violated.any():
            break
        candidates = np.flatnonzero(violated)
        worst = candidates[np.argsort(violation[candidates])[:batch]]
        chosen[worst] = True
    return best


def block_dual_norms(problem: Problem, r: np.ndarray, relu: bool) -> float:
    """max_i of the block dual norms of the residual direction r.

    Gated: max_i ||X^T D_i r||. ReLU: max_i max_{s = +-1} max_{u in K_i, ||u|| <= 1} s r^T D_i X u,
    bounded from above per block by NNLS multipliers (``_cone_dual_norm_bound``). Blocks are visited
    in decreasing order of their gated norm, which bounds the ReLU norm, and the scan stops once no
    remaining block can exceed the running maximum.
    """
    grads = problem.X.T @ (problem.masks * r[:, None])  # (d, P): column i is X^T D_i r
    gated = np.linalg.norm(grads, axis=0)
    if not relu:
        return float(gated.max())
    best = 0.0
    for i in np.argsort(-gated):
        if gated[i] <= best:
            break
        A = np.where(problem.masks[:, i, None], problem.X, -problem.X)  # (2 D_i - I) X
        for sign in (1.0, -1.0):
            best = max(best, _cone_dual_norm_bound(A, sign * grads[:, i]))
    return best


@dataclass(frozen=True)
class Certificate:
    """Primal objective of a returned solution and certified gaps to the program's optimum.

    ``relative_gap`` uses the better of the two dual points (residual, or the library's own);
    ``residual_relative_gap`` uses the residual alone.
    """

    primal: float
    dual: float
    gap: float
    relative_gap: float
    residual_relative_gap: float


def feasible_dual_value(problem: Problem, direction: np.ndarray, relu: bool) -> float:
    """Largest dual objective theta^T y - 1/2||theta||^2 over dual-feasible theta = t * direction.

    theta is feasible for t in [0, beta / M], M the largest block dual norm of the direction
    (``block_dual_norms``); t maximises the concave dual objective on that interval, so the value
    is never below that of the rescaling theta = direction / max(1, M / beta) of the theory notes.
    """
    dd, dy = float(direction @ direction), float(direction @ problem.y)
    if dd == 0.0:
        return 0.0
    m = block_dual_norms(problem, direction, relu)
    t = max(dy / dd, 0.0)
    if m > 0:
        t = min(t, problem.beta / m)
    return t * dy - 0.5 * t * t * dd


def certify(
    problem: Problem,
    v: np.ndarray,
    w: np.ndarray | None,
    relu: bool,
    dual_point: np.ndarray | None = None,
) -> Certificate:
    """Certified duality gap of blocks (v, w), computed the same way for every library.

    The dual point is the solution's residual r = y - yhat, scaled into the dual-feasible set
    (``feasible_dual_value``). A library that returns a dual point of its own (``dual_point``)
    gets it checked the same way (scaled into the feasible set by this module's block norms, not
    its own), and the better of the two lower bounds counts. Relative gap = gap / primal.
    """
    r = problem.y - predictions(problem, v, w)
    primal = 0.5 * float(r @ r) + problem.beta * _penalty(v, w)
    residual_dual = feasible_dual_value(problem, r, relu)
    dual = residual_dual
    if dual_point is not None:
        dual = max(dual, feasible_dual_value(problem, np.asarray(dual_point, float), relu))
    scale = max(primal, np.finfo(float).tiny)
    return Certificate(
        primal, dual, primal - dual, (primal - dual) / scale, (primal - residual_dual) / scale
    )
