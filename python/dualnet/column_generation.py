"""Column generation for :func:`dualnet.fit_relu`: grow the pattern set from the dual.

Solve over the current patterns, price (:mod:`dualnet.pricing`) the dual point against patterns
outside the set, add the violating ones, warm-start from the previous blocks (padded with zeros,
so every solve starts from a point at least as good as the last solution) and repeat until the
search finds no violation or the round budget is spent. Seeding the set with the activation
patterns of a trained network (``init``) makes the convex solution at least as good as that
network, up to the solver's certified relative gap: the network itself is a feasible point of
the convex program over its own patterns.
"""

from __future__ import annotations

import dataclasses
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
from .patterns import Patterns, activation_patterns

__all__ = ["ColumnGeneration", "fit_relu_priced", "fit_with_pricing"]

#: Rounds of solve / price / add before the loop stops with a relative certificate.
DEFAULT_MAX_ROUNDS = 30
#: Largest number of priced patterns added per round (the most violated first).
DEFAULT_MAX_ADD = 100
# Random start directions of a normal pricing pass, and of the wider pass run once the normal one
# finds nothing (before the loop stops).
# A normal pass searches at most _N_STARTS starts drawn from the pool; the wide pass all of them.
_N_RANDOM = 64
_N_RANDOM_WIDE = 1024
_N_STARTS = 256


@dataclass(frozen=True)
class ColumnGeneration:
    """What the pricing loop of ``fit_relu(..., patterns="auto")`` or ``init=...`` did.

    Attributes
    ----------
    n_rounds : int
        Solves performed.
    n_added : int
        Patterns added by pricing (the final set is the seed set plus these).
    n_starts : int
        Pricing starts searched over all rounds.
    n_evaluated : int
        Cells evaluated by pricing over all rounds.
    max_value : float
        Largest dual constraint value the last pricing pass found outside the final set.
    max_violation : float
        ``max(0, max_value / beta - 1)`` of the last pass: 0 when it found no violated constraint.
    certificate : {"global", "relative"}
        ``"global"`` when the final set is the complete pattern set (the duality gap then
        certifies the network problem itself); ``"relative"`` otherwise: the gap holds for the
        final set, and the search found no violation (``max_violation == 0``) or stopped on the
        round budget. Local search cannot prove that no violated pattern exists.
    """

    n_rounds: int
    n_added: int
    n_starts: int
    n_evaluated: int
    max_value: float
    max_violation: float
    certificate: str


def network_patterns(Xa, first_layer, bias) -> Patterns:
    """The distinct activation patterns 1[X u_j >= 0] of a network's neurons, gates u_j."""
    masks = Xa @ first_layer >= 0
    _, first = np.unique(np.packbits(masks, axis=0), axis=1, return_index=True)
    keep = np.sort(first)
    return Patterns.from_masks(masks[:, keep], np.ascontiguousarray(first_layer[:, keep]), bias=bias)


def network_blocks(Xa, patterns, first_layer, second_layer):
    """Blocks (v, w) of the convex program over ``patterns`` that represent the network.

    Neuron j with pattern i adds a_j u_j to v_i (a_j > 0) or |a_j| u_j to w_i; u_j lies in the
    closed cone of its own pattern, so the blocks are feasible, predict what the network predicts,
    and their penalty beta sum ||v_i|| + ||w_i|| is at most the weight decay (triangle and AM-GM
    inequalities)."""
    masks = patterns.masks
    index = {masks[:, i].tobytes(): i for i in range(masks.shape[1])}
    g = Xa.shape[1]
    v = np.zeros((g, masks.shape[1]))
    w = np.zeros((g, masks.shape[1]))
    own = Xa @ first_layer >= 0
    for j in range(first_layer.shape[1]):
        i = index[own[:, j].tobytes()]
        a = second_layer[j]
        if a >= 0:
            v[:, i] += a * first_layer[:, j]
        else:
            w[:, i] -= a * first_layer[:, j]
    return v, w


def _union(first: Patterns, second: Patterns) -> Patterns:
    pattern_set = _core.append_patterns(first.pattern_set, second.pattern_set)
    return Patterns(pattern_set, exact=False, bias=first.bias, method="priced")


def _pad(blocks, total):
    blocks = np.asarray(blocks)
    out = np.zeros((blocks.shape[0], total))
    out[:, : blocks.shape[1]] = blocks
    return out


def fit_with_pricing(Xa, y, beta, seed, *, model, bias, solve, random_state, v0=None, w0=None,
                     max_rounds=DEFAULT_MAX_ROUNDS, max_add=DEFAULT_MAX_ADD):
    """The pricing loop on validated, augmented data.

    ``seed`` is the starting Patterns, ``solve(patterns, v0, w0)`` one solve returning a ReLUFit;
    (v0, w0) optionally warm-start the first solve. Returns the last fit with its
    :class:`ColumnGeneration` report attached as ``fit.pricing``.
    """
    rng = check_random_state(random_state)
    patterns = seed
    n_added = n_starts = n_evaluated = 0
    max_value = 0.0
    fit = None
    for round_ in range(1, max_rounds + 1):
        fit = solve(patterns, v0, w0)
        if patterns.exact:
            return dataclasses.replace(fit, pricing=ColumnGeneration(
                round_, n_added, n_starts, n_evaluated, 0.0, 0.0, "global"))
        found = None
        for n_random, n_starts_pass in ((_N_RANDOM, _N_STARTS), (_N_RANDOM_WIDE, -1)):
            found, _, _, max_value, searched, evaluated = _core.price_patterns(
                Xa, np.ascontiguousarray(fit.dual), beta, patterns.pattern_set,
                relu=(model == "relu"), n_starts=n_starts_pass, n_random=n_random, max_new=max_add,
                seed=int(rng.integers(0, 2**63)),
            )
            n_starts += int(searched)
            n_evaluated += int(evaluated)
            if len(found):
                break
        if not len(found) or round_ == max_rounds:
            break
        n_added += len(found)
        total = len(patterns) + len(found)
        v0, w0 = _pad(fit.v, total), _pad(fit.w, total)
        patterns = _union(patterns, Patterns(found, exact=False, bias=bias, method="priced"))
    report = ColumnGeneration(
        n_rounds=round_, n_added=n_added, n_starts=n_starts, n_evaluated=n_evaluated,
        max_value=float(max_value), max_violation=max(0.0, float(max_value) / beta - 1.0),
        certificate="relative",
    )
    return dataclasses.replace(fit, pricing=report)


def seed_patterns(X, Xa, patterns, init, bias, random_state):
    """The starting set and warm start of ``fit_relu(patterns="auto" or ..., init=...)``.

    Returns (seed Patterns, v0, w0); v0, w0 are None unless ``init`` carries a second layer.
    """
    first = second = None
    if init is not None:
        first, second = _as_network(init, Xa.shape[1], bias)
    if isinstance(patterns, str):  # "auto": exact when affordable, else sampled and priced
        base = activation_patterns(X, bias=bias, method="auto", random_state=random_state)
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
    """(first_layer (g, m), second_layer (m,) or None) from an array, a pair or a fitted
    scikit-learn MLPRegressor."""
    second = None
    if hasattr(init, "coefs_") and hasattr(init, "intercepts_"):
        coefs, intercepts = init.coefs_, init.intercepts_
        if len(coefs) != 2 or np.asarray(coefs[1]).shape[1] != 1:
            raise ValueError("init: only a one-hidden-layer, single-output network can seed the fit")
        if getattr(init, "activation", "relu") != "relu":
            raise ValueError(f"init: the network's activation is {init.activation!r}, not 'relu'")
        first = np.asarray(coefs[0], dtype=np.float64)
        if bias:
            first = np.vstack([first, np.asarray(intercepts[0], dtype=np.float64)[None, :]])
        # The output bias and the loss scaling differ from this library's: only the patterns
        # (the hidden layer) are taken.
    elif isinstance(init, tuple) and len(init) == 2:
        first = np.asarray(init[0], dtype=np.float64)
        second = np.asarray(init[1], dtype=np.float64)
        if second.ndim != 1 or first.ndim != 2 or second.shape[0] != first.shape[1]:
            raise ValueError(
                f"init: (first_layer, second_layer) must have shapes (g, m) and (m,), got "
                f"{first.shape} and {second.shape}"
            )
    else:
        first = np.asarray(init, dtype=np.float64)
    if first.ndim != 2 or first.shape[0] != g or first.shape[1] == 0:
        raise ValueError(
            f"init: the first layer must have shape ({g}, m) with m >= 1 (d + 1 rows with "
            f"bias={bias}), got {first.shape}"
        )
    if not np.all(np.isfinite(first)) or (second is not None and not np.all(np.isfinite(second))):
        raise ValueError("init contains NaN or infinity")
    return np.ascontiguousarray(first), second


def fit_relu_priced(X, y, beta, *, patterns, model, bias, tol, max_iter, random_state, verbose,
                    init, warning, beta_name):
    """``fit_relu`` with ``patterns="auto"`` or ``init``: validation, seed set, pricing loop."""
    from .relu import _MODELS, _as_patterns, _augment, _solve

    X = as_data_matrix(X, "X")
    y = as_target_vector(y, X.shape[0], "y")
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
    seed, v0, w0 = seed_patterns(X, Xa, patterns, init, bias, random_state)

    def solve(current, v_start, w_start):
        return _solve(Xa, y, current, beta, model=model, bias=bias, tol=tol, max_iter=max_iter,
                      verbose=bool(verbose), v0=v_start, w0=w_start, warning=warning,
                      stacklevel=7)

    return fit_with_pricing(Xa, y, beta, seed, model=model, bias=bias, solve=solve,
                            random_state=random_state, v0=v0, w0=w0)
