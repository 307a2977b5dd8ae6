"""Two-layer ReLU networks trained to certified global optimality (theory notes, section 7).

The weight-decay problem

    min_{U, a} 1/2 ||sum_j (X u_j)_+ a_j - y||^2 + beta/2 sum_j (||u_j||^2 + a_j^2)

equals the convex program over activation patterns D_i (Pilanci & Ergen, *Neural Networks are
Convex Regularizers*, ICML 2020)

    min 1/2 ||sum_i D_i X (v_i - w_i) - y||^2 + beta sum_i (||v_i|| + ||w_i||)
    s.t. (2 D_i - I) X v_i >= 0, (2 D_i - I) X w_i >= 0

when the pattern set is complete; the gated relaxation drops the cone constraints (Mishkin,
Sahiner & Pilanci, ICML 2022). The compiled core solves either program by dual coordinate ascent
and certifies the result with a dual-feasible point.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import _core
from ._network import cone_decomposition_of_patterns, map_back, relu_network_predict
from ._validation import (
    as_data_matrix,
    as_pattern_masks,
    as_real_array,
    as_target_vector,
    check_choice,
    check_positive,
    check_positive_integer,
)
from .exceptions import ConvergenceWarning
from .memory import check_fit_memory
from .patterns import Patterns, activation_patterns

__all__ = ["ReLUFit", "ReLUPath", "beta_max", "fit_relu", "fit_relu_path"]

_MODELS = ("relu", "gated")


def _frozen_array(a) -> np.ndarray:
    arr = np.array(a, dtype=np.float64)  # an owned copy, so freezing it touches no caller data
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False, repr=False)
class ReLUFit:
    """A two-layer ReLU network fitted by :func:`fit_relu`, with its optimality certificate.

    Objectives are those of the convex program solved (``model``), in the library's convention:
    the loss summed over samples (squared: 1/2 ||yhat - y||^2; see ``loss``), and penalty
    beta * sum of block norms, which equals the weight decay beta/2 (||U||_F^2 + ||a||^2) of the
    returned network for ``model="relu"``. With ``bias=True`` the data carry a ones column, so the hidden biases (last
    row of ``first_layer``) are regularized like the other weights.

    The certificate is global when ``patterns.exact`` is true; with a sampled pattern set the
    program is a restriction of the network problem and the gap holds relative to that set (the
    network is still valid, and its objective upper-bounds the global optimum).

    Attributes
    ----------
    primal_objective : float
        Convex objective at the returned blocks ``v``, ``w``.
    dual_objective : float
        Dual objective -L*(-dual) at the certified dual-feasible point ``dual`` (squared loss:
        y^T dual - 1/2 ||dual||^2; docs/theory.md section 6 for the others): a lower bound on the
        optimum of the program.
    duality_gap : float
        ``primal_objective - dual_objective``.
    relative_gap : float
        ``duality_gap / primal_objective``; at most ``tol`` when ``converged``.
    converged : bool
    n_iter : int
    status : str
        ``"converged"``; ``"max_iter"`` (the iteration budget ran out first); or, for the
        logistic, hinge and cross-entropy losses, ``"stalled"``: no step lowered the objective
        any more although the subproblems were solved as accurately as they get, with the
        certified gap still above ``tol`` (typically a ``tol`` below what double precision
        certifies). The gap reached is ``relative_gap``; a ConvergenceWarning names it.
    dual : ndarray of shape (n,) or (n, K)
        Dual-feasible point: -grad L at the fit, rescaled (a rescaled residual for the squared
        loss); shape (n, K) for ``loss="cross_entropy"`` with K classes.
    first_layer : ndarray of shape (g, m)
        Hidden weights, g = d (+ 1 with a bias, last row), m = number of hidden neurons.
    second_layer : ndarray of shape (m,) or (m, K)
        Output weights; (m, K) for ``loss="cross_entropy"``, one column per class.
    v, w : ndarray of shape (g, P) or (g, P, K)
        Blocks of the convex program, one column per pattern; ``w`` is zero for the gated model.
        With K classes: ``v[:, i, :]`` is the block V_i of pattern i (gated, nuclear-norm
        program) or ``v[:, :, k]``, ``w[:, :, k]`` the blocks of class k's one-vs-rest program
        (ReLU).
    patterns : Patterns
        The activation patterns the program was posed over.
    model : {"relu", "gated"}
    bias : bool
    beta : float
    max_cone_violation : float
        Largest violation of the cone constraints by ``v``, ``w`` (0 for the gated model).
    gates : ndarray of shape (g, P) or None
        Gated model only: the gate vectors of the patterns.
    gated_weights : ndarray of shape (g, P) or None
        Gated model only: the gated weights (equal to ``v``). ``first_layer`` and
        ``second_layer`` then hold the ReLU network given by cone decomposition of these
        weights: the same predictions on the training data, but a larger norm, so its weight-decay
        objective is larger than ``primal_objective``.
    pricing : ColumnGeneration or None
        Set when the pattern set was grown by pricing (``patterns="auto"`` or ``init``): rounds,
        patterns added, the search budget spent, the largest violation left and whether the
        certificate is global or relative to the final set.
    loss : {"squared", "logistic", "hinge", "cross_entropy"}
        The loss of the program. ``"cross_entropy"`` with ``model="relu"`` is one-vs-rest: the
        objectives, gap and dual are those of the K logistic programs, summed over classes.
    """

    primal_objective: float
    dual_objective: float
    duality_gap: float
    relative_gap: float
    converged: bool
    n_iter: int
    status: str
    dual: np.ndarray
    first_layer: np.ndarray
    second_layer: np.ndarray
    v: np.ndarray
    w: np.ndarray
    patterns: object
    model: str
    bias: bool
    beta: float
    max_cone_violation: float = 0.0
    gates: Optional[np.ndarray] = field(default=None)
    gated_weights: Optional[np.ndarray] = field(default=None)
    pricing: Optional[object] = field(default=None)
    loss: str = "squared"

    @property
    def width(self) -> int:
        """Number of hidden neurons m."""
        return self.second_layer.shape[0]

    @property
    def n_features_in(self) -> int:
        """Number of columns of the data the network takes (without the ones column)."""
        return self.first_layer.shape[0] - int(self.bias)

    def predict(self, X) -> np.ndarray:
        """Network output (X U)_+ a for new data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Without the ones column: it is appended here when the fit used a bias.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, K)
            (n_samples, K) for ``loss="cross_entropy"``: the logits of the K classes.
        """
        X = as_data_matrix(X, "X")
        if X.shape[1] != self.n_features_in:
            raise ValueError(
                f"X has {X.shape[1]} columns but the network was fitted on {self.n_features_in}"
            )
        return relu_network_predict(_augment(X, self.bias), self.first_layer, self.second_layer)

    def to_numpy(self):
        """The network as plain numpy weights (writeable copies).

        Returns
        -------
        dualnet.interop.NetworkWeights
            ``(first_layer (g, m), second_layer (m,), bias)``; save it with
            :func:`dualnet.interop.save_network`.
        """
        from .interop import NetworkWeights

        return NetworkWeights(np.array(self.first_layer), np.array(self.second_layer), self.bias)

    def to_torch(self, dtype=None):
        """The network as a PyTorch ``nn.Sequential(Linear, ReLU, Linear)`` (needs torch).

        Parameters
        ----------
        dtype : torch.dtype, optional
            Default ``torch.float64``: the module's output equals :meth:`predict` to rounding.

        Returns
        -------
        torch.nn.Sequential
            ``Linear(d, m, bias=self.bias), ReLU(), Linear(m, 1, bias=False)``.
        """
        from .interop import to_torch

        return to_torch(self.first_layer, self.second_layer, bias=self.bias, dtype=dtype)

    def __repr__(self) -> str:
        return (
            f"ReLUFit(model={self.model!r}, beta={self.beta:.6g}, bias={self.bias}, "
            f"width={self.width}, n_patterns={self.v.shape[1]}, "
            f"primal_objective={self.primal_objective:.10g}, "
            f"dual_objective={self.dual_objective:.10g}, relative_gap={self.relative_gap:.3g}, "
            f"converged={self.converged}, n_iter={self.n_iter})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class ReLUPath:
    """Fits along a decreasing sequence of ``betas`` (from :func:`fit_relu_path`).

    Attributes
    ----------
    betas : ndarray of shape (k,)
        Decreasing regularization strengths.
    fits : tuple of ReLUFit
        One fit per beta, in the same order.
    beta_max : float
        The smallest beta at which the solution is zero.
    """

    betas: np.ndarray
    fits: tuple
    beta_max: float

    @property
    def primal_objectives(self) -> np.ndarray:
        """Primal objective of each fit, shape (k,)."""
        return np.array([f.primal_objective for f in self.fits])

    @property
    def relative_gaps(self) -> np.ndarray:
        """Certified relative gap of each fit, shape (k,)."""
        return np.array([f.relative_gap for f in self.fits])

    def __len__(self) -> int:
        return len(self.fits)

    def __getitem__(self, index):
        return self.fits[index]

    def __iter__(self):
        return iter(self.fits)

    def __repr__(self) -> str:
        return (
            f"ReLUPath(n_betas={len(self.fits)}, beta_max={self.beta_max:.6g}, "
            f"betas=[{self.betas[0]:.6g} .. {self.betas[-1]:.6g}], "
            f"max_relative_gap={np.max(self.relative_gaps):.3g}, "
            f"all_converged={all(f.converged for f in self.fits)})"
        )


def _augment(X: np.ndarray, bias: bool) -> np.ndarray:
    if not bias:
        return X
    return np.ascontiguousarray(np.hstack([X, np.ones((X.shape[0], 1))]))


def _as_patterns(patterns, X: np.ndarray, bias: bool, random_state):
    if patterns is None:
        return activation_patterns(X, bias=bias, method="auto", random_state=random_state)
    if isinstance(patterns, Patterns):
        if patterns.bias != bias:
            raise ValueError(
                f"patterns were computed with bias={patterns.bias} but bias={bias} was given"
            )
        if len(patterns) == 0:
            raise ValueError("patterns is empty: it holds no activation pattern")
        n_rows = patterns.pattern_set.n_rows
        if n_rows != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but patterns has {n_rows}")
        return patterns
    masks = as_pattern_masks(patterns, X.shape[0])
    # Gates unknown: NaN, with the row count of the augmented data so the gate dimension matches.
    unknown_gates = np.full((X.shape[1] + int(bias), masks.shape[1]), np.nan)
    return Patterns.from_masks(masks, unknown_gates, bias=bias)


def _prepare(X, y, patterns, model, bias, random_state):
    X = as_data_matrix(X, "X")
    y = as_target_vector(y, X.shape[0], "y")
    check_choice(model, "model", _MODELS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    patterns = _as_patterns(patterns, X, bool(bias), random_state)
    return _augment(X, bool(bias)), y, patterns


def _gated_cone_split(X, patterns, v):
    """Cone decomposition of the gated weights v (g, P): blocks (v_cone, w_cone) in the cones."""
    try:
        return cone_decomposition_of_patterns(X, patterns.pattern_set, np.arange(v.shape[1]), v)
    except ValueError as exc:
        raise ValueError(
            "patterns: model='gated' needs a strictly interior gate for every pattern "
            f"whose block leaves its cone ({exc})"
        ) from None


def _network_of_blocks(X, patterns, model, v, w):
    """The network (first_layer, second_layer) of the blocks and the gated extras of ReLUFit."""
    if model == "relu":
        first, second = map_back(v, w)
        return first, second, {}
    first, second = map_back(*_gated_cone_split(X, patterns, v))
    return first, second, {"gates": _frozen_array(patterns.gates), "gated_weights": v}


def _solve(X, y, patterns, beta, *, model, bias, tol, max_iter, verbose, v0=None, w0=None,
           warning=ConvergenceWarning, stacklevel=3, n_threads=None):
    """One core solve on validated data, turned into a ReLUFit (warns if not converged)."""
    options = {} if max_iter is None else {"max_iter": max_iter}
    if n_threads is not None:
        options["n_threads"] = n_threads
    solution = _core.solve_convex(
        X, y, patterns.pattern_set, beta, relu=(model == "relu"), tol=tol, v0=v0, w0=w0,
        verbose=verbose, **options,
    )
    v = _frozen_array(solution.v)
    w = _frozen_array(solution.w)
    first, second, extras = _network_of_blocks(X, patterns, model, v, w)
    fit = ReLUFit(
        primal_objective=float(solution.primal_objective),
        dual_objective=float(solution.dual_objective),
        duality_gap=float(solution.duality_gap),
        relative_gap=float(solution.relative_gap),
        converged=bool(solution.converged),
        n_iter=int(solution.n_iter),
        status=str(solution.status),
        dual=_frozen_array(solution.dual),
        first_layer=_frozen_array(first),
        second_layer=_frozen_array(second),
        v=v,
        w=w,
        patterns=patterns,
        model=model,
        bias=bias,
        beta=float(beta),
        max_cone_violation=float(solution.max_cone_violation),
        **extras,
    )
    _warn_if_not_converged(fit, f"the {model} program", tol, warning, stacklevel)
    return fit


def _warn_if_not_converged(fit, program, tol, warning, stacklevel):
    """Emit ``warning`` when the fit stopped before its certified gap reached tol (``stacklevel``
    counts from the caller of this function)."""
    if fit.converged or warning is None:
        return
    if fit.status == "stalled":
        advice = ("no step decreased the objective any more (round-off); a larger max_iter "
                  "would not help")
    else:
        advice = "increase max_iter for a smaller gap"
    warnings.warn(
        f"{program} at beta={fit.beta:.6g} stopped after {fit.n_iter} iterations "
        f"({fit.status}) with certified relative gap {fit.relative_gap:.3g} > tol={tol:.3g}; "
        f"the result is returned; {advice}",
        warning,
        stacklevel=stacklevel + 1,
    )


_PATTERNS_PARAMETER = """
    patterns : None, Patterns or bool ndarray of shape (n_samples, n_patterns)
        The activation patterns D_i. None computes them with
        ``activation_patterns(X, bias=bias, method="auto", random_state=random_state)``; bool
        masks are wrapped with ``Patterns.from_masks`` (their gates are then unknown, which
        ``model="gated"`` can only use if no cone decomposition needs them)."""

_FIT_PATTERNS_PARAMETER = """
    patterns : None, "auto", Patterns or bool ndarray of shape (n_samples, n_patterns)
        The activation patterns D_i. None (the default) and ``"auto"``: the exact set when
        Cover's bound on the number of patterns of X is at most
        ``dualnet.patterns.DEFAULT_MAX_PATTERNS`` (100000; global certificate), else a seed of
        sampled patterns grown by column generation (see Notes). A Patterns or bool masks: that
        set, solved once (bool masks are wrapped with ``Patterns.from_masks``; their gates are
        then unknown, which ``model="gated"`` can only use if no cone decomposition needs
        them)."""

_COMMON_PARAMETERS = _PATTERNS_PARAMETER + """
    model : {"relu", "gated"}, default="relu"
        ``"relu"``: the exact program with cone constraints; ``"gated"``: the gated-ReLU
        relaxation (a group lasso), whose optimum is at most the ReLU one.
    bias : bool, default=False
        Append a ones column to X, giving every hidden neuron a bias. The bias is then
        regularized like the other weights."""


def _share_parameters(function, patterns=_PATTERNS_PARAMETER):
    """Insert the parameters every public function shares into its docstring."""
    if function.__doc__:  # docstrings are stripped under python -OO
        common = _COMMON_PARAMETERS.replace(_PATTERNS_PARAMETER, patterns)
        function.__doc__ = function.__doc__.replace("    {common}", common.strip("\n"))


def fit_relu(
    X, y, beta, *, patterns=None, model="relu", bias=False, tol=1e-6, max_iter=None,
    random_state=None, verbose=False, init=None, n_threads=None, max_time=None, loss="squared",
) -> ReLUFit:
    """Train a two-layer ReLU network with weight decay to a certified global optimum.

    Solves the convex program of the network over activation patterns and maps the solution back
    to a network whose non-convex objective
    1/2 ||sum_j (X u_j)_+ a_j - y||^2 + beta/2 sum_j (||u_j||^2 + a_j^2)
    equals ``primal_objective`` (``model="relu"``). The duality gap is computed from a
    dual-feasible point, never estimated.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    beta : float
        Weight-decay strength, > 0 (summed loss convention: the loss carries a factor 1/2 and no
        1/n).
    {common}
    tol : float, default=1e-6
        Stop once the certified relative gap (primal - dual) / primal is at most ``tol``. Over a
        pattern set grown by pricing (see the Notes) the certificate holds for the final set;
        the rounds before it are solved loosely and only the returned fit is solved to ``tol``.
    max_iter : int or None, default=None
        Iteration limit of the solver (None: the solver's default). If it is reached the result
        is returned with ``converged=False`` and a :class:`dualnet.ConvergenceWarning` is emitted.
    random_state : None, int or numpy Generator
        Seeds the pattern sampler and the pricing search: a fixed value gives identical results.
    verbose : bool, default=False
        Print solver progress (one line per column-generation round when pricing).
    init : None, array-like of shape (g, m), pair (first_layer, second_layer), PyTorch
        ``nn.Sequential(Linear, ReLU, Linear)``, fitted scikit-learn MLPRegressor or ReLUFit
        A trained network to polish (read by :func:`dualnet.interop.network_weights`; an array
        is a first layer alone): its neurons' activation patterns seed the pattern set
        (joined to ``patterns`` when that is given), which is then grown by pricing. The result
        is never worse than the network, up to the certified relative gap ``tol``; with a pair,
        the first solve also starts from the network itself (so does a model; an output bias
        needs ``bias=True`` and becomes one more neuron). Squared loss only.
    n_threads : int or None, default=None
        Threads of the solver's all-blocks gradient pass and Newton products (None: one per
        core); from 32,768 rows, two or more also split each block update of the sweeps between
        two threads. The result does not depend on it.
    max_time : float or None, default=None
        Time budget in seconds of column generation (None: 60); once spent, the current set is
        solved to ``tol`` and returned (``fit.pricing.stop == "max_time"``). How many rounds fit
        in the budget depends on the machine and its load, so a fit that stopped on
        ``max_time`` is not reproducible (``random_state`` fixes everything else); a budget
        that is never reached gives a fit that depends on the data and the seed alone.
    loss : {"squared", "logistic", "hinge", "cross_entropy"}, default="squared"
        The loss, summed over samples. ``"logistic"`` (log(1 + exp(-y yhat))) and ``"hinge"``
        ((1 - y yhat)_+) take y in {-1, +1}; ``"cross_entropy"`` (softmax) takes one-hot targets
        Y of shape (n_samples, K). ``"squared"`` is the solver described above; the others are
        described in the Notes.

    Returns
    -------
    ReLUFit

    Raises
    ------
    ValueError
        On a shape mismatch, NaN or infinite data, ``beta <= 0``, ``tol <= 0`` or an empty pattern
        set; the message names the argument.

    Notes
    -----
    With ``patterns`` None or ``"auto"``, the exact set is enumerated when it is affordable
    (global certificate); otherwise the fit starts from the patterns of a few random gates and
    grows the set by column generation: solve (to a loose gap), search patterns whose dual
    constraint the solution's dual point violates (:func:`price_patterns`, gradient ascent of
    |lambda^T (X u)_+| on the sphere), add the most violated (one of each cluster of
    patterns a few rows apart: nearly collinear blocks slow the solver), drop patterns a solve
    left unused and near duplicates of a pattern carrying more weight, warm-start,
    repeat; stop when no violation (or none away from the set) is found, when the objective
    stalls (relative decrease below 1e-3 over two rounds) or on the time budget, then solve to
    ``tol`` over the final set.
    ``fit.pricing`` reports the rounds, the search, the largest violation left, why the loop
    stopped and whether the certificate is global or relative to the final set. The logistic
    and hinge losses take the same path (their seeding network, half as wide, is trained on
    that loss, their dual point is lambda = -grad L(yhat), scaled as below); cross-entropy uses
    the given or sampled set.

    Classification losses (docs/theory.md section 6), all solved in the compiled core:
    ``"logistic"`` and ``"hinge"`` by proximal Newton steps (Lee, Sun & Saunders, 2014) whose
    subproblems are the squared-loss program on diag(sqrt h) X with the same patterns and cones
    (h the loss curvature), with a line search on the objective; ``"hinge"`` is an augmented
    Lagrangian method in the margins (Newton steps on the hinge's piecewise-quadratic envelope at
    multipliers q in [0, 1], which move between them), and its objective and certificate are
    those of the true hinge. ``"cross_entropy"`` with ``model="gated"`` is the
    exact vector-output program min CE(sum_i D_i X V_i, Y) + beta sum_i ||V_i||_* (Sahiner et al.,
    ICLR 2021), solved by block proximal gradient with singular-value shrinkage; with
    ``model="relu"`` it is one-vs-rest: K logistic ReLU programs on 2 Y[:, k] - 1, whose
    objectives, gaps and duals are summed (columns of ``dual``). Every certificate divides
    lambda = -grad L(yhat) by max(1, max_i B_i / beta), B_i a bound of pattern i's dual norm, and
    evaluates the conjugate there (:mod:`dualnet.duality.losses`).
    """
    return _fit_relu(X, y, beta, patterns=patterns, model=model, bias=bias, tol=tol,
                     max_iter=max_iter, random_state=random_state, verbose=verbose, init=init,
                     n_threads=n_threads, max_time=max_time, loss=loss)


def _fit_relu(X, y, beta, *, patterns, model, bias, tol, max_iter, random_state, verbose,
              warning=ConvergenceWarning, beta_name="beta", init=None, n_threads=None,
              max_time=None, loss="squared", seed_options=None):
    """fit_relu with the warning class and the name of the beta argument chosen by the caller;
    ``seed_options`` (max_patterns, n_gates) shape the seed set of the pricing path."""
    # Before any copy of X (every path below makes one): refuse what cannot fit, with the estimate.
    check_fit_memory(X, _pattern_count(patterns), model, bias)
    squared = isinstance(loss, str) and loss == "squared"
    priceable = squared or (isinstance(loss, str) and loss in _PRICED_LOSSES and init is None)
    priced = priceable and (init is not None or patterns is None or isinstance(patterns, str))
    if not squared and not priced:
        from ._loss_fit import fit_loss

        if init is not None or isinstance(patterns, str):
            raise ValueError(
                "init is available for loss='squared' only, and patterns='auto' (pattern "
                f"pricing) for loss in {('squared',) + _PRICED_LOSSES}"
            )
        return fit_loss(X, y, beta, loss=loss, patterns=patterns, model=model, bias=bias,
                        tol=tol, max_iter=max_iter, random_state=random_state, verbose=verbose,
                        warning=warning, beta_name=beta_name)
    if priced:
        from .column_generation import fit_relu_priced

        if patterns is None and init is None:
            patterns = "auto"
        return fit_relu_priced(X, y, beta, patterns=patterns, model=model, bias=bias, tol=tol,
                               max_iter=max_iter, random_state=random_state, verbose=verbose,
                               init=init, warning=warning, beta_name=beta_name,
                               n_threads=n_threads, max_time=max_time, loss=loss,
                               **(seed_options or {}))
    X, y, patterns = _prepare(X, y, patterns, model, bias, random_state)
    beta = check_positive(beta, beta_name)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_integer(max_iter, "max_iter", allow_none=True)
    if n_threads is not None:
        n_threads = check_positive_integer(n_threads, "n_threads")
    return _solve(X, y, patterns, beta, model=model, bias=bool(bias), tol=tol, max_iter=max_iter,
                  verbose=bool(verbose), warning=warning, stacklevel=4, n_threads=n_threads)


#: Losses other than the squared one whose default pattern set is grown by pricing.
_PRICED_LOSSES = ("logistic", "hinge")


def _pattern_count(patterns) -> int:
    """P of a given pattern set (Patterns or masks), 0 when it is still to be computed."""
    if isinstance(patterns, Patterns):
        return len(patterns)
    shape = getattr(patterns, "shape", None)
    return int(shape[1]) if shape is not None and len(shape) == 2 else 0


_share_parameters(fit_relu, _FIT_PATTERNS_PARAMETER)


def beta_max(X, y, *, patterns=None, model="relu", bias=False, random_state=None) -> float:
    """Smallest beta at which the solution of the convex program is zero.

    Gated: max_i ||X^T D_i y||; ReLU: max_i max(||Proj_{K_i}(X^T D_i y)||,
    ||Proj_{K_i}(-X^T D_i y)||), with K_i the cone of pattern i. For every beta >= beta_max the
    network is empty and the objective is 1/2 ||y||^2.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    {common}
    random_state : None, int or numpy Generator

    Returns
    -------
    float
    """
    X, y, patterns = _prepare(X, y, patterns, model, bias, random_state)
    return float(_core.beta_max(X, y, patterns.pattern_set, relu=(model == "relu")))


_share_parameters(beta_max)


def fit_relu_path(
    X, y, betas=10, *, min_ratio=1e-2, patterns=None, model="relu", bias=False, tol=1e-6,
    max_iter=None, random_state=None, verbose=False,
) -> ReLUPath:
    """Fit along a decreasing sequence of betas, each solve warm-started from the previous one.

    The path starts from :func:`beta_max`, where the solution is zero; the pattern set is computed
    once and shared by every fit.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    betas : int or array-like of shape (k,), default=10
        Either strictly decreasing positive values, or a number k of values geometrically spaced
        from ``beta_max`` down to ``min_ratio * beta_max``.
    min_ratio : float, default=1e-2
        Smallest beta of a generated grid, relative to ``beta_max`` (used when ``betas`` is an int).
    {common}
    tol, max_iter, random_state, verbose
        As in :func:`fit_relu`; every fit that stops on ``max_iter`` emits a
        :class:`dualnet.ConvergenceWarning`.

    Returns
    -------
    ReLUPath
    """
    X, y, patterns = _prepare(X, y, patterns, model, bias, random_state)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_integer(max_iter, "max_iter", allow_none=True)
    top = float(_core.beta_max(X, y, patterns.pattern_set, relu=(model == "relu")))
    if isinstance(betas, numbers.Integral) and not isinstance(betas, (bool, np.bool_)):
        k = check_positive_integer(betas, "betas")
        ratio = check_positive(min_ratio, "min_ratio")
        if ratio >= 1:
            raise ValueError(f"min_ratio must be < 1, got {min_ratio!r}")
        if top == 0:
            raise ValueError("y is zero on every pattern (beta_max = 0): no grid to generate")
        grid = np.geomspace(top, top * ratio, k)
    else:
        grid = as_real_array(betas, "betas")
        if grid.ndim != 1 or grid.size == 0:
            raise ValueError(f"betas must be a non-empty 1-D sequence, got shape {grid.shape}")
        for value in grid:
            check_positive(float(value), "betas")
        if np.any(np.diff(grid) >= 0):
            raise ValueError("betas must be strictly decreasing")
    fits = []
    v0 = w0 = None
    for value in grid:
        fit = _solve(X, y, patterns, float(value), model=model, bias=bool(bias), tol=tol,
                     max_iter=max_iter, verbose=bool(verbose), v0=v0, w0=w0)
        fits.append(fit)
        v0, w0 = np.array(fit.v), np.array(fit.w)
    return ReLUPath(betas=_frozen_array(grid), fits=tuple(fits), beta_max=top)


_share_parameters(fit_relu_path)
