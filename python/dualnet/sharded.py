"""The gated program for data too large for one machine: rows of a ``dask.array`` across workers.

Solved by FISTA (Beck & Teboulle, SIAM J. Imaging Sci. 2009) with adaptive restart (O'Donoghue &
Candes, Found. Comput. Math. 2015) on the group lasso

    min_u 1/2 ||sum_i D_i X u_i - y||^2 + beta sum_i ||u_i||,   D_i = diag(1[X g_i >= 0]),

whose only passes over the data are per row chunk, on the worker holding the chunk: the chunk's
masks are computed once from the gates and kept bit-packed next to it, and each iteration sends
the (g, P) blocks to every chunk and brings back the chunk's block gradients X_c^T D_i r_c
(g, P) and two scalars, summed on the client. One pass per iteration: the gradient is affine in
u, so the gradient at FISTA's extrapolated point is the same combination of the gradients at
the last two iterates.

Certificate (docs/theory.md, section 7, as in the in-memory solver): the residual r of the
iterate, rescaled to theta = r / max(1, max_i ||X^T D_i r|| / beta), is dual feasible, and
y^T theta - 1/2 ||theta||^2 is a lower bound on the optimum; both need only the pass's sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_real_array, as_target_vector, check_positive, check_positive_integer

__all__ = ["ShardedFit", "fit_gated_sharded"]

# Rows per piece inside a chunk: bounds the chunk-local (rows, P) temporaries.
_PIECE_ROWS = 8192


@dataclass(frozen=True, eq=False)
class ShardedFit:
    """Result of :func:`fit_gated_sharded`.

    Attributes
    ----------
    gated_weights : ndarray of shape (g, P)
        The blocks u_i (g = d, or d + 1 with a bias: last row).
    gates : ndarray of shape (g, P)
        The gates defining the patterns.
    primal_objective, dual_objective, duality_gap, relative_gap : float
        Of the gated program at ``gated_weights``; the dual objective is the best over the
        iterates of the certified dual points r / max(1, max_i ||X^T D_i r|| / beta), each a lower
        bound on the optimum.
    converged : bool
    n_iter : int
        FISTA iterations (each one pass over the data).
    n_passes : int
        All passes over the data, including the step-size estimate.
    bias : bool
    beta : float
    """

    gated_weights: np.ndarray
    gates: np.ndarray
    primal_objective: float
    dual_objective: float
    duality_gap: float
    relative_gap: float
    converged: bool
    n_iter: int
    n_passes: int
    bias: bool
    beta: float

    def predict(self, X) -> np.ndarray:
        """Gated network output sum_i D_i X u_i on new rows (numpy or dask array)."""
        chunk = np.asarray(X, dtype=np.float64)
        if self.bias:
            chunk = np.hstack([chunk, np.ones((chunk.shape[0], 1))])
        return np.sum((chunk @ self.gates >= 0) * (chunk @ self.gated_weights), axis=1)


def _augmented(chunk, bias):
    chunk = np.asarray(chunk, dtype=np.float64)
    if bias:
        chunk = np.hstack([chunk, np.ones((chunk.shape[0], 1))])
    return chunk


def _chunk_masks(chunk, gates, bias):
    """The chunk's masks 1[X_c g_i >= 0], bit-packed along the patterns (rows, ceil(P / 8))."""
    chunk = _augmented(chunk, bias)
    return np.packbits(chunk @ gates >= 0, axis=1)


def _chunk_pass(chunk, y_chunk, packed, blocks, bias, with_target):
    """On one chunk: r_c = y_c - sum_i D_i X_c u_i; returns (X_c^T D_i r_c as (g, P), ||r_c||^2,
    y_c^T r_c). Without the target, r_c = -sum_i D_i X_c u_i (for the step-size estimate)."""
    chunk = _augmented(chunk, bias)
    y_chunk = np.asarray(y_chunk, dtype=np.float64)
    p = blocks.shape[1]
    gradients = np.zeros_like(blocks)
    rr = yr = 0.0
    for start in range(0, chunk.shape[0], _PIECE_ROWS):
        rows = slice(start, start + _PIECE_ROWS)
        x = chunk[rows]
        masks = np.unpackbits(packed[rows], axis=1, count=p).astype(np.float64)
        prediction = np.einsum("ij,ij->i", x @ blocks, masks)
        r = (y_chunk[rows] - prediction) if with_target else -prediction
        gradients += x.T @ (masks * r[:, None])
        rr += float(r @ r)
        yr += float(y_chunk[rows] @ r) if with_target else 0.0
    return gradients, rr, yr


def _group_shrink(blocks, threshold):
    norms = np.linalg.norm(blocks, axis=0)
    scale = np.maximum(0.0, 1.0 - threshold / np.maximum(norms, np.finfo(float).tiny))
    return blocks * scale


def fit_gated_sharded(X, y, beta, gates, *, bias=False, tol=1e-6, max_iter=20000,
                      n_power_iter=30, verbose=False) -> ShardedFit:
    """Solve the gated program on row-sharded data with a certified duality gap.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Rows in chunks (any row chunking; columns are gathered into one chunk). The chunks are
        persisted where the active Dask scheduler keeps them (the workers of the current
        ``distributed.Client``), and every pass runs there.
    y : dask.array.Array or array-like of shape (n_samples,)
    beta : float
        Regularization strength (summed loss, as :func:`dualnet.fit_relu`).
    gates : array-like of shape (g, P)
        The patterns' gates, g = n_features (+ 1 with ``bias``, last row): pattern i is
        1[X g_i >= 0], computed on the workers. ``Patterns.gates`` of a sample of the rows, say.
    bias : bool, default=False
        Append a ones column (the gates then have n_features + 1 rows).
    tol : float, default=1e-6
        Stop once the certified relative gap is at most ``tol``.
    max_iter : int, default=20000
    n_power_iter : int, default=30
        Most power iterations estimating the step size 1 / ||[D_1 X, ..., D_P X]||^2 (they stop
        once the estimate changes by less than 0.1%).
    verbose : bool, default=False
        Print the certificate every 50 iterations.

    Returns
    -------
    ShardedFit

    Notes
    -----
    The step size is 1 / (1.2 lambda), lambda the power-iteration estimate of the largest
    eigenvalue; if an iterate nevertheless increases the objective with momentum off, the step is
    halved and the iterate rejected, so the method cannot diverge. Every reported gap is
    certified whatever the step size.
    """
    import dask
    import dask.array as da

    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask.array.Array, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D with shape (n_samples, n_features), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have rows and columns, got shape {X.shape}")
    for name, flag in (("bias", bias), ("verbose", verbose)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    g = d + int(bias)
    with np.errstate(over="ignore"):  # a value beyond float64 becomes inf, refused below
        gates = as_real_array(gates, "gates")
    if gates.ndim != 2 or gates.shape[0] != g or gates.shape[1] == 0:
        raise ValueError(f"gates must have shape (g, P) with g = {g} rows and P >= 1, got "
                         f"{gates.shape}")
    if not np.all(np.isfinite(gates)):
        raise ValueError("gates contains NaN or infinity")
    beta = check_positive(beta, "beta")
    tol = check_positive(tol, "tol")
    max_iter = check_positive_integer(max_iter, "max_iter")
    n_power_iter = check_positive_integer(n_power_iter, "n_power_iter")
    if isinstance(y, da.Array):
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y must hold real numbers, got dtype {y.dtype}")
    else:
        y = as_target_vector(y, n, "y")
    y = da.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n,):
        raise ValueError(f"X has {n} rows but y has shape {y.shape}")
    X = X.rechunk({1: -1}).astype(np.float64)
    y = y.rechunk((X.chunks[0],)).astype(np.float64)
    X, y = dask.persist(X, y)
    if not bool(da.isfinite(X).all().compute()) or not bool(da.isfinite(y).all().compute()):
        raise ValueError("X or y contains NaN or infinity")
    x_parts = X.to_delayed().ravel().tolist()
    y_parts = y.to_delayed().ravel().tolist()
    delayed = dask.delayed
    packed = dask.persist(*[delayed(_chunk_masks)(xc, gates, bool(bias)) for xc in x_parts])
    passes = 0

    def full_pass(blocks, with_target=True):
        nonlocal passes
        passes += 1
        parts = dask.compute(*[delayed(_chunk_pass)(xc, yc, pc, blocks, bool(bias), with_target)
                               for xc, yc, pc in zip(x_parts, y_parts, packed)])
        gradients = sum(part[0] for part in parts)  # fixed order: results as listed
        return gradients, sum(part[1] for part in parts), sum(part[2] for part in parts)

    # Step size: power iteration on A^T A, A = [D_1 X, ..., D_P X] (a pass without the target
    # returns -A^T A v).
    rng = np.random.default_rng(0)
    v = rng.standard_normal((g, gates.shape[1]))
    v /= np.linalg.norm(v)
    eigenvalue = 0.0
    for _ in range(n_power_iter):
        w = -full_pass(v, with_target=False)[0]
        previous, eigenvalue = eigenvalue, float(np.linalg.norm(w))
        if eigenvalue == 0:
            break
        v = w / eigenvalue
        if abs(eigenvalue - previous) <= 1e-3 * eigenvalue:
            break  # settled well within the 1.2 safety factor
    lipschitz = 1.2 * eigenvalue if eigenvalue > 0 else 1.0

    yy = float((y @ y).compute())
    x = np.zeros((g, gates.shape[1]))
    gradient_x, rr_x, yr_x = -full_pass(x)[0], yy, yy  # gradient of 1/2||r||^2 is -X^T D_i r
    x_prev, gradient_prev = x, gradient_x
    momentum_t = 1.0
    best = None
    n_iter = 0
    converged = False

    def certify(blocks, neg_gradient, rr, yr):
        primal = 0.5 * rr + beta * float(np.sum(np.linalg.norm(blocks, axis=0)))
        scale = max(1.0, float(np.max(np.linalg.norm(neg_gradient, axis=0))) / beta)
        dual = yr / scale - 0.5 * rr / scale**2
        return primal, dual, scale

    primal_x, dual_x, scale_x = certify(x, -gradient_x, rr_x, yr_x)
    best = (dual_x, scale_x)
    while n_iter < max_iter:
        if primal_x - best[0] <= tol * max(primal_x, np.finfo(float).tiny):
            converged = True
            break
        n_iter += 1
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * momentum_t**2))
        m = (momentum_t - 1) / t_next
        z = x + m * (x - x_prev)
        gradient_z = gradient_x + m * (gradient_x - gradient_prev)  # affine in u
        candidate = _group_shrink(z - gradient_z / lipschitz, beta / lipschitz)
        neg_gradient, rr, yr = full_pass(candidate)
        primal, dual, scale = certify(candidate, neg_gradient, rr, yr)
        if primal > primal_x * (1 + 1e-14):
            if m == 0:  # a plain proximal step went up: the step is too long
                lipschitz *= 2
            momentum_t = 1.0  # restart
            x_prev, gradient_prev = x, gradient_x
            continue
        if np.sum((z - candidate) * (candidate - x)) > 0:  # gradient restart
            t_next = 1.0
        x_prev, gradient_prev = x, gradient_x
        x, gradient_x = candidate, -neg_gradient
        primal_x, momentum_t = primal, t_next
        if dual > best[0]:
            best = (dual, scale)
        if verbose and n_iter % 50 == 0:
            print(f"fit_gated_sharded: iteration {n_iter}  primal {primal_x:.12e}  "
                  f"dual {best[0]:.12e}  relative gap {(primal_x - best[0]) / primal_x:.3e}")
    dual_value = best[0]
    gap = primal_x - dual_value
    return ShardedFit(
        gated_weights=x, gates=gates, primal_objective=primal_x, dual_objective=dual_value,
        duality_gap=gap, relative_gap=gap / max(primal_x, np.finfo(float).tiny), converged=converged, n_iter=n_iter, n_passes=passes,
        bias=bool(bias), beta=beta,
    )
