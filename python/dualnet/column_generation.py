"""Column generation for :func:`dualnet.fit_relu`: grow the pattern set from the dual.

Solve over the current patterns, price (:mod:`dualnet.pricing`) the dual point against patterns
outside the set, add the most violating ones, warm-start from the previous blocks (padded with
zeros, so every solve starts from a point at least as good as the last solution) and repeat.
Rounds are solved to a loose relative gap (``ROUND_TOL``) within ``ROUND_MAX_ITER`` epochs:
pricing needs a good dual point, not a certified one; the last solve is taken to the caller's
``tol`` (skipped when the last round already certified it). Patterns whose blocks stayed zero
for ``DROP_AFTER`` solves leave the set (dropping a zero block keeps the current solution
feasible, so the optimum never rises), which keeps every solve small.

Patterns that differ in a few rows have nearly collinear blocks D_i X and D_j X, on which the
solver converges slowly. A search from one dual point returns whole clusters of such neighbours
(most of which end up unused), and the neurons of a trained seed network come in near-parallel
groups. So the set is kept spread out:

- pricing skips violators within ``min_distance`` = ``int(MIN_DISTANCE * n)`` rows of a pattern
  of the set or of one it already returned: each round adds the most violating pattern of each
  cluster, and the additions are more diverse;
- for ``patterns="auto"`` without ``init``, after every solve a pattern within
  ``thin_distance`` = ``int(THIN_DISTANCE * n)`` rows of a pattern with a larger block
  (||v_i|| + ||w_i||) leaves the set (its weight is lost, so this radius is kept small: the
  near-parallel neurons of the seed network carry real weight a few rows apart).

Every solve, the closing one included, is certified over the set it is given: the relative
certificate covers the final set exactly.

The loop stops when the search finds no violation (``"no_violation"``) or only violators near
the set (``"near_only"``), when the gap to the full program estimated from the largest violation
found is below ``GAP_TOL`` (relative), when the objective improved by less than ``STALL_TOL``
(relative) over ``STALL_ROUNDS`` rounds, or on the time or round budget.

Seeding the set with the activation patterns of a trained network (``init``) makes the convex
solution at least as good as that network, up to the solver's certified relative gap: the network
itself is a feasible point of the convex program over its own patterns.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from . import _core
from ._validation import (
    as_data_matrix,
    as_target_vector,
    check_choice,
    check_positive,
    check_positive_integer,
    check_random_state,
)
from ._local_search import train_network
from .patterns import Patterns, activation_patterns

__all__ = ["ColumnGeneration", "fit_relu_priced", "fit_with_pricing"]

#: Rounds of solve / price / add before the loop stops with a relative certificate.
DEFAULT_MAX_ROUNDS = 200
#: Seconds the loop may spend before its last (tight) solve; ``fit_relu(max_time=...)``.
DEFAULT_MAX_TIME = 60.0
#: Largest number of priced patterns added per round (the most violated first; of the violators
#: one search returns, few end up in use, and each one added costs every later solve).
DEFAULT_MAX_ADD = 20
#: Gates drawn for the seed set of ``patterns="auto"`` when the exact set is not enumerated.
DEFAULT_SEED_GATES = 100
#: Relative gap of the solves inside the loop (the last solve uses the caller's tol), and their
#: epoch budget: pricing needs a good dual point, not a certificate, and on ill-conditioned sets
#: the certified gap can take far longer to close than the objective to settle.
ROUND_TOL = 1e-3
ROUND_MAX_ITER = 300
#: A pattern whose blocks are zero after this many consecutive solves leaves the set (one: a
#: zero block satisfies its dual constraint at that solve's dual point; should a later dual
#: point violate it again, pricing finds it again, while keeping it costs every later solve).
DROP_AFTER = 1
#: Stop when the objective fell by less than STALL_TOL (relative) over STALL_ROUNDS rounds.
STALL_TOL = 1e-3
STALL_ROUNDS = 2
#: Stop when the estimated global relative gap is below GAP_TOL (see ``_estimated_gap``).
GAP_TOL = 1e-3
#: Hidden neurons and Adam steps of the network trained to seed ``patterns="auto"`` (0: none).
#: Under the logistic and hinge losses the network has ``SEED_WIDTH // 2`` neurons: their optima
#: measured use few neurons (breast_cancer: about a dozen), and the wider network's many small,
#: near-parallel neurons only slow the first solve (one proximal Newton step of 117 inner epochs
#: over its 52 patterns, 0.55 s, against 0.2 s from the narrower network, which also trains in
#: half the time).
SEED_WIDTH = 64
SEED_STEPS = 2000
#: A pattern is added when its dual constraint value exceeds beta * (1 + PRICE_TOL).
PRICE_TOL = 1e-4
#: Pricing skips violators within ``int(MIN_DISTANCE * n)`` rows of the set (0 below 67 rows).
MIN_DISTANCE = 0.015
#: After a solve, a pattern within ``int(THIN_DISTANCE * n)`` rows of one with a larger block
#: leaves the set (0, no thinning, below 200 rows).
THIN_DISTANCE = 0.005
# Starts of one pricing pass: drawn from the current gates, the data rows and _N_RANDOM random
# directions; the wider pass (run once before stopping on "no violation" or "near_only", not
# when the near violators found already put the estimated gap below GAP_TOL) searches _N_WIDE.
_N_STARTS = 256
_N_RANDOM = 256
_N_WIDE = 2048


@dataclass(frozen=True)
class ColumnGeneration:
    """What the pricing loop of ``fit_relu`` did (``patterns="auto"`` or ``init=...``).

    Deterministic for a fixed ``random_state`` unless the loop stopped on ``max_time``.

    ``max_value`` and ``max_violation`` describe the last pricing pass, at the dual point of the
    solve before it: the returned fit's own dual point when ``stop`` is ``"no_violation"`` or
    ``"near_only"`` (or the last round certified ``tol``), else the closing solve (over the set
    in use, to ``tol``) came after that pass.

    Attributes
    ----------
    n_rounds : int
        Solves performed.
    n_added : int
        Patterns added by pricing.
    n_dropped : int
        Patterns removed after their blocks stayed zero for ``DROP_AFTER`` solves.
    n_starts : int
        Pricing starts searched over all rounds.
    n_evaluated : int
        Gates (cells) evaluated by pricing over all rounds.
    max_value : float
        Largest dual constraint value the last pricing pass found outside the set it priced
        (near duplicates it skipped included).
    max_violation : float
        ``max(0, max_value / beta - 1)`` of the last pass: 0 when it found no violated constraint.
    certificate : {"global", "relative"}
        ``"global"`` when the final set is the complete pattern set (the duality gap then
        certifies the network problem itself); ``"relative"`` otherwise: the gap holds for the
        final set. Local search cannot prove that no violated pattern exists.
    stop : str
        Why the loop ended: ``"exact"`` (complete set, no pricing), ``"no_violation"`` (the
        search found none), ``"near_only"`` (every violator it found lies within
        ``min_distance`` rows of a pattern of the set), ``"gap"`` (the estimated gap to the
        full program, from the largest violation found, is below ``GAP_TOL``), ``"stalled"``
        (relative progress below ``STALL_TOL``), ``"max_time"`` or ``"max_rounds"``.
    n_solver_iter : int
        Solver iterations (epochs) summed over every solve (one for a solve that certifies its
        start).
    n_near : int
        Violators found but not added, over all rounds, because they lie within
        ``min_distance`` rows of a pattern of the set or of one added in the same round.
    n_thinned : int
        Patterns removed because they lay within ``thin_distance`` rows of a pattern with a
        larger block.
    min_distance : int
        The separation pricing kept from the set (0: none).
    thin_distance : int
        The radius of the removal of near duplicates (0: none; always 0 with ``init``).
    """

    n_rounds: int
    n_added: int
    n_starts: int
    n_evaluated: int
    max_value: float
    max_violation: float
    certificate: str
    n_dropped: int = 0
    stop: str = "no_violation"
    n_solver_iter: int = 0
    n_near: int = 0
    n_thinned: int = 0
    min_distance: int = 0
    thin_distance: int = 0


def network_patterns(Xa, first_layer, bias) -> Patterns:
    """The distinct activation patterns 1[X u_j >= 0] of a network's neurons, gates u_j."""
    own = _core.PatternSet.from_gates(Xa, np.ascontiguousarray(first_layer))
    return Patterns(own.subset(own.first_occurrences()), exact=False, bias=bias, method="given")


def network_blocks(Xa, patterns, first_layer, second_layer):
    """Blocks (v, w) of the convex program over ``patterns`` that represent the network.

    Neuron j with pattern i adds a_j u_j to v_i (a_j > 0) or |a_j| u_j to w_i; u_j lies in the
    closed cone of its own pattern, so the blocks are feasible, predict what the network predicts,
    and their penalty beta sum ||v_i|| + ||w_i|| is at most the weight decay (triangle and AM-GM
    inequalities). Every neuron's pattern must be in ``patterns`` (the last copy is used)."""
    own = _core.PatternSet.from_gates(Xa, np.ascontiguousarray(first_layer))
    index = patterns.pattern_set.find(own)
    if np.any(index < 0):
        raise ValueError("network_blocks: a neuron's activation pattern is not in patterns")
    g, P = Xa.shape[1], len(patterns)
    v = np.zeros((g, P))
    w = np.zeros((g, P))
    for j, i in enumerate(index):
        a = second_layer[j]
        if a >= 0:
            v[:, i] += a * first_layer[:, j]
        else:
            w[:, i] -= a * first_layer[:, j]
    return v, w


def _union(first: Patterns, second: Patterns) -> Patterns:
    pattern_set = _core.append_patterns(first.pattern_set, second.pattern_set)
    return Patterns(pattern_set, exact=False, bias=first.bias, method="priced")


def _subset(patterns: Patterns, keep) -> Patterns:
    subset = patterns.pattern_set.subset(np.flatnonzero(keep))
    return Patterns(subset, exact=False, bias=patterns.bias, method="priced")


def _pad(blocks, total):
    blocks = np.asarray(blocks)
    out = np.zeros((blocks.shape[0], total))
    out[:, : blocks.shape[1]] = blocks
    return out


def _price(Xa, dual, beta, patterns, model, rng, n_starts, max_add, min_distance=0):
    return _core.price_patterns(
        Xa, np.ascontiguousarray(dual), beta, patterns.pattern_set, relu=(model == "relu"),
        n_starts=n_starts, n_random=max(_N_RANDOM, n_starts), max_new=max_add, tol=PRICE_TOL,
        seed=int(rng.integers(0, 2**63)), method="ascent" if model == "relu" else "climb",
        min_distance=min_distance,
    )


def _near_duplicates(patterns, v, w, min_distance):
    """Bool (P,): patterns within ``min_distance`` rows of a pattern with a larger block.

    Taken by decreasing block norm ||v_i|| + ||w_i|| (ties by position), a pattern is kept
    unless it lies within ``min_distance`` rows of one kept before it: of each group of near
    duplicates the pattern carrying the most weight stays."""
    norms = np.linalg.norm(v, axis=0) + np.linalg.norm(w, axis=0)
    drop = np.zeros(len(norms), dtype=bool)
    if min_distance <= 0 or len(norms) < 2:
        return drop
    distances = _core.pattern_distances(patterns.pattern_set, patterns.pattern_set)
    kept = []
    for i in np.argsort(-norms, kind="stable"):
        if kept and distances[i, kept].min() <= min_distance:
            drop[i] = True
        else:
            kept.append(i)
    return drop


def _estimated_gap(y, dual, beta, max_value, primal, loss="squared"):
    """Relative gap to the full program's optimum if ``max_value`` were the largest dual
    constraint value over every pattern: the dual point t * dual with t in [0, beta / max_value]
    is then feasible for the full program (theory notes, section 2), and the best such t gives a
    lower bound (other losses: t = min(1, beta / max_value), which keeps t * dual in the
    conjugate's domain). Pricing is a local search, so this is an estimate, not a
    certificate."""
    if loss != "squared":
        from .duality.losses import get_loss

        t = min(1.0, beta / max_value) if max_value > 0 else 1.0
        return (primal - get_loss(loss).dual_objective(t * dual, y)) / primal
    dd, dy = float(dual @ dual), float(dual @ y)
    if dd == 0.0 or primal <= 0.0:
        return 0.0
    t = max(dy / dd, 0.0)
    if max_value > beta:
        t = min(t, beta / max_value)
    return (primal - (t * dy - 0.5 * t * t * dd)) / primal


def fit_with_pricing(Xa, y, beta, seed, *, model, bias, solve, tol, random_state, v0=None,
                     w0=None, max_rounds=None, max_add=None, max_time=None, verbose=False,
                     loss="squared", min_distance=0, thin_distance=0):
    """The pricing loop on validated, augmented data.

    ``seed`` is the starting Patterns; ``solve(patterns, v0, w0, tol, final)`` one solve returning
    a ReLUFit (``final``: the caller's tolerance, warn if not reached); (v0, w0) optionally
    warm-start the first solve. Pricing skips violators within ``min_distance`` rows of a
    pattern of the set (or of one added in the same round); a positive ``thin_distance``
    removes, after every solve, the patterns within that many rows of a pattern with a larger
    block (which can raise the optimum slightly, so the polishing of ``init`` does not thin).
    Returns the last fit with its :class:`ColumnGeneration` report attached as
    ``fit.pricing``.
    """
    started = time.perf_counter()
    max_rounds = DEFAULT_MAX_ROUNDS if max_rounds is None else max_rounds
    max_add = DEFAULT_MAX_ADD if max_add is None else max_add
    max_time = DEFAULT_MAX_TIME if max_time is None else max_time
    rng = check_random_state(random_state)
    patterns = seed
    if patterns.exact:
        fit = solve(patterns, v0, w0, tol, True)
        return dataclasses.replace(fit, pricing=ColumnGeneration(
            1, 0, 0, 0, 0.0, 0.0, "global", stop="exact", n_solver_iter=max(1, fit.n_iter)))
    round_tol = max(tol, ROUND_TOL)
    idle = np.zeros(len(patterns), dtype=int)  # consecutive solves with zero blocks
    fresh = np.zeros(len(patterns), dtype=bool)  # added by the last pricing pass
    n_added = n_dropped = n_starts = n_evaluated = round_ = n_solver_iter = 0
    n_near = n_thinned = 0
    max_value = 0.0
    history = []
    tight = False  # this round's solve uses the caller's tol (and no epoch cap)
    stop = None  # set once the loop ends: one closing solve at tol follows unless not needed
    while True:
        round_ += 1
        final = tight or stop is not None
        fit = solve(patterns, v0, w0, tol if final else round_tol, final)
        n_solver_iter += max(1, fit.n_iter)  # a solve that certifies its start counts one
        if stop is not None:
            break
        history.append(fit.primal_objective)
        active = np.any(np.asarray(fit.v) != 0, axis=0) | np.any(np.asarray(fit.w) != 0, axis=0)
        idle = np.where(active, 0, idle + 1)
        if np.any(fresh) and not np.any(active & fresh) and not final:
            # The loose solve certified its gap without any of the violators just added: its
            # dual point is too rough to tell them apart, and dropping them would only have
            # pricing find them again. Later rounds are solved ten times tighter.
            round_tol = max(tol, round_tol / 10)
        reason = None
        if time.perf_counter() - started > max_time:
            reason = "max_time"
        elif (len(history) > STALL_ROUNDS
              and history[-1 - STALL_ROUNDS] - history[-1] <= STALL_TOL * history[-1]):
            reason = "stalled"
        elif round_ >= max_rounds:
            reason = "max_rounds"
        found, near = (), 0
        if reason is None:
            # A tight dual point at which the normal pass finds no violator gets a wide pass
            # too, unless the near violators it skipped already put the estimated gap below
            # GAP_TOL (the loop stops on "gap" then, as any round does on that evidence).
            for width in ([_N_STARTS, _N_WIDE] if final else [_N_STARTS]):
                found, _, _, max_value, searched, evaluated, near = _price(
                    Xa, fit.dual, beta, patterns, model, rng, width, max_add, min_distance)
                n_starts += int(searched)
                n_evaluated += int(evaluated)
                n_near += int(near)
                if len(found) or (near and _estimated_gap(
                        y, np.asarray(fit.dual), beta, max_value, fit.primal_objective,
                        loss) <= GAP_TOL):
                    break
        if verbose:
            print(f"pricing round {round_}: {len(patterns)} patterns, {int(active.sum())} "
                  f"active, objective {fit.primal_objective:.8g}, largest value / beta "
                  f"{max_value / beta:.6g}, {len(found)} added, {int(near)} near skipped, "
                  f"{time.perf_counter() - started:.2f} s")
        if (reason is None and (len(found) or near)
                and _estimated_gap(y, np.asarray(fit.dual), beta, max_value,
                                   fit.primal_objective, loss) <= GAP_TOL):
            reason = "gap"
        if reason is None and not len(found):
            reason = "near_only" if near else "no_violation"
            if not final:  # solve to the caller's tol and price that dual point once more
                tight = True
                found = ()
                reason = None
        if reason is not None:
            stop = reason
            if final or (fit.converged and fit.relative_gap <= tol):
                break
            # The closing solve, to the caller's tol over the patterns in use (zero blocks add
            # nothing to the solution, only cost to the solve), from the current blocks.
            found = ()
        tight = not len(found)
        keep = (idle < DROP_AFTER) if len(found) else (idle == 0)
        thinned = np.zeros(len(patterns), dtype=bool)
        if thin_distance > 0:
            thinned = keep & _near_duplicates(patterns, np.asarray(fit.v), np.asarray(fit.w),
                                              thin_distance)
        if not np.any(keep & ~thinned):  # an all-zero solution: keep the set as it is
            keep, thinned = np.ones(len(patterns), dtype=bool), thinned & False
        n_dropped += int(np.count_nonzero(~keep))
        n_thinned += int(np.count_nonzero(thinned))
        keep &= ~thinned
        n_added += len(found)
        v_keep, w_keep = np.asarray(fit.v)[:, keep], np.asarray(fit.w)[:, keep]
        if not np.all(keep):
            patterns = _subset(patterns, keep)
        total = len(patterns) + len(found)
        v0, w0 = _pad(v_keep, total), _pad(w_keep, total)
        if len(found):
            patterns = _union(patterns, Patterns(found, exact=False, bias=bias, method="priced"))
        idle = np.concatenate([idle[keep], np.zeros(len(found), dtype=int)])
        fresh = np.concatenate([np.zeros(np.count_nonzero(keep), dtype=bool),
                                np.ones(len(found), dtype=bool)])
    report = ColumnGeneration(
        n_rounds=round_, n_added=n_added, n_starts=n_starts, n_evaluated=n_evaluated,
        max_value=float(max_value), max_violation=max(0.0, float(max_value) / beta - 1.0),
        certificate="relative", n_dropped=n_dropped, stop=stop,
        n_solver_iter=n_solver_iter, n_near=n_near, n_thinned=n_thinned,
        min_distance=min_distance, thin_distance=thin_distance,
    )
    return dataclasses.replace(fit, pricing=report)


def seed_patterns(X, Xa, y, beta, patterns, init, bias, random_state, max_patterns=None,
                  n_gates=None, loss="squared"):
    """The starting set and warm start of ``fit_relu(patterns="auto" or ..., init=...)``.

    ``"auto"``: the exact set when Cover's bound on its size is at most
    ``max_patterns`` (default ``dualnet.patterns.DEFAULT_MAX_PATTERNS``;
    ``activation_patterns(method="auto")``'s rule), else the patterns of ``n_gates`` (default
    ``DEFAULT_SEED_GATES``) random gates and, without ``init``, those of a
    network trained briefly by Adam (:mod:`dualnet._local_search`; ``SEED_WIDTH`` neurons, half
    as many under a classification loss), which also warm-starts the first solve.
    Returns (seed Patterns, v0, w0); v0, w0 are None unless ``init`` carries a second layer.
    """
    first = second = None
    if init is not None:
        first, second = _as_network(init, Xa.shape[1], bias)
    if isinstance(patterns, str):  # "auto": exact when affordable, else seeded and priced
        rng = check_random_state(random_state)
        base = activation_patterns(X, bias=bias, method="auto", max_patterns=max_patterns,
                                   n_gates=DEFAULT_SEED_GATES if n_gates is None else n_gates,
                                   random_state=rng)
        if not base.exact and init is None:
            width = SEED_WIDTH if loss == "squared" else SEED_WIDTH // 2
            if width > 0:
                first, second = train_network(Xa, y, beta, rng, width=width,
                                              steps=SEED_STEPS, loss=loss)
    else:
        base = patterns  # a Patterns or None
    if first is None:
        return base, None, None
    own = network_patterns(Xa, first, bias)
    seed = own if base is None else _union(base, own)
    if second is None:
        return seed, None, None
    v0, w0 = network_blocks(Xa, seed, first, second)
    return seed, v0, w0


def _as_network(init, g, bias):
    """(first_layer (g, m), second_layer (m,) or None) of ``init``: a first-layer array, or any
    network :func:`dualnet.interop.network_weights` reads (pair, PyTorch module, scikit-learn
    MLPRegressor, ReLUFit), with hidden biases as the last row when ``bias``."""
    second = None
    if isinstance(init, (np.ndarray, list)):
        first = np.asarray(init, dtype=np.float64)
    else:
        from .interop import _network_weights

        try:
            first, second, _ = _network_weights(init, bool(bias), "init")
        except ValueError as exc:
            message = str(exc)
            raise ValueError(message if message.startswith("init") else f"init: {message}") from None
        if second.ndim != 1:
            raise ValueError(
                f"init: only a single-output network can seed the fit, got {second.shape[1]} outputs"
            )
    if first.ndim != 2 or first.shape[0] != g or first.shape[1] == 0:
        raise ValueError(
            f"init: the first layer must have shape ({g}, m) with m >= 1 (d + 1 rows with "
            f"bias={bias}), got {first.shape}"
        )
    if not np.all(np.isfinite(first)):
        raise ValueError("init contains NaN or infinity")
    return np.ascontiguousarray(first), second


def fit_relu_priced(X, y, beta, *, patterns, model, bias, tol, max_iter, random_state, verbose,
                    init, warning, beta_name, n_threads=None, max_time=None,
                    max_patterns=None, n_gates=None, loss="squared"):
    """``fit_relu`` with ``patterns="auto"`` or ``init``: validation, seed set, pricing loop
    (squared loss, or logistic / hinge without ``init``)."""
    from ._loss_fit import _as_signs, fit_loss
    from .relu import _MODELS, _as_patterns, _augment, _solve

    X = as_data_matrix(X, "X")
    if loss == "squared":
        y = as_target_vector(y, X.shape[0], "y")
    else:
        y = _as_signs(y, X.shape[0], loss)
    check_choice(model, "model", _MODELS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    bias = bool(bias)
    beta = check_positive(beta, beta_name)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_integer(max_iter, "max_iter", allow_none=True)
    if isinstance(patterns, str):
        check_choice(patterns, "patterns", ("auto",))
    elif patterns is not None:
        patterns = _as_patterns(patterns, X, bias, random_state)
    Xa = _augment(X, bias)
    seed, v0, w0 = seed_patterns(X, Xa, y, beta, patterns, init, bias, random_state,
                                 max_patterns=max_patterns, n_gates=n_gates, loss=loss)

    max_time = DEFAULT_MAX_TIME if max_time is None else check_positive(max_time, "max_time")
    if n_threads is not None:
        n_threads = check_positive_integer(n_threads, "n_threads")

    last_dual = None  # the hinge's warm start: the previous round's dual point

    def solve(current, v_start, w_start, solve_tol, final):
        nonlocal last_dual
        # Only the closing solve warns: a loose round that stops on max_iter is just priced.
        if loss != "squared":  # proximal Newton steps; their own iteration limit
            fit = fit_loss(X, y, beta, loss=loss, patterns=current, model=model, bias=bias,
                           tol=solve_tol, max_iter=max_iter, random_state=None, verbose=False,
                           warning=warning if final else None, beta_name=beta_name,
                           v0=v_start, w0=w_start,
                           multipliers=None if last_dual is None else y * last_dual)
            if loss == "hinge":
                last_dual = np.asarray(fit.dual)
            return fit
        budget = max_iter if final else min(max_iter or ROUND_MAX_ITER, ROUND_MAX_ITER)
        return _solve(Xa, y, current, beta, model=model, bias=bias, tol=solve_tol,
                      max_iter=budget, verbose=False, v0=v_start, w0=w_start,
                      warning=warning if final else None, stacklevel=7, n_threads=n_threads)

    return fit_with_pricing(Xa, y, beta, seed, model=model, bias=bias, solve=solve, tol=tol,
                            random_state=random_state, v0=v0, w0=w0, max_time=max_time,
                            verbose=bool(verbose), loss=loss,
                            min_distance=int(MIN_DISTANCE * Xa.shape[0]),
                            thin_distance=0 if init is not None
                            else int(THIN_DISTANCE * Xa.shape[0]))
