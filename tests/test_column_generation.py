"""fit_relu(patterns="auto") and fit_relu(init=...): the pricing loop and polishing."""

import warnings

import numpy as np
import pytest

import dualnet
import dualnet.interop
import dualnet.patterns
from dualnet import column_generation
from reference.gradient_descent import network_objective, train_relu_network
from test_pricing import _augment, _data


@pytest.mark.parametrize("model", ["relu", "gated"])
def test_auto_uses_the_exact_set_when_affordable(model):
    X, y = _data(14, 2, seed=0)
    fit = dualnet.fit_relu(X, y, 0.3, patterns="auto", model=model, bias=True, tol=1e-8)
    exact = dualnet.activation_patterns(X, bias=True, method="exact")
    reference = dualnet.fit_relu(X, y, 0.3, patterns=exact, model=model, bias=True, tol=1e-8)
    assert fit.pricing.certificate == "global" and fit.pricing.n_rounds == 1
    assert fit.primal_objective == pytest.approx(reference.primal_objective, rel=1e-6)


@pytest.mark.parametrize("model", ["relu", "gated"])
def test_auto_prices_to_the_exact_optimum_when_enumeration_is_refused(model, monkeypatch):
    # Refuse enumeration (as for large d) so that "auto" samples and prices; d = 3 keeps the exact
    # set computable for the oracle.
    X, y = _data(16, 3, seed=7)
    exact = dualnet.activation_patterns(X, bias=True, method="exact")
    beta = 0.05 * dualnet.beta_max(X, y, patterns=exact, model=model, bias=True)
    reference = dualnet.fit_relu(X, y, beta, patterns=exact, model=model, bias=True, tol=1e-9,
                                 max_iter=100000)
    monkeypatch.setattr(dualnet.patterns, "DEFAULT_MAX_PATTERNS", 10)
    # A small random seed and no seeding network, so that pricing does the work; no early stop
    # (a loose round may certify its warm start and leave the objective where it was: no stall
    # rule at all).
    monkeypatch.setattr(column_generation, "DEFAULT_SEED_GATES", 8)
    monkeypatch.setattr(column_generation, "SEED_WIDTH", 0)
    monkeypatch.setattr(column_generation, "STALL_ROUNDS", column_generation.DEFAULT_MAX_ROUNDS)
    monkeypatch.setattr(column_generation, "GAP_TOL", 0.0)
    fit = dualnet.fit_relu(X, y, beta, patterns="auto", model=model, bias=True, tol=1e-9,
                           max_iter=100000, random_state=0)
    report = fit.pricing
    assert report.certificate == "relative" and report.n_added > 0 and report.n_rounds > 1
    assert report.max_violation <= column_generation.PRICE_TOL and report.n_starts > 0
    assert report.stop == "no_violation"
    assert len(fit.patterns) < len(exact)
    assert fit.primal_objective == pytest.approx(reference.primal_objective, rel=1e-6)


def test_auto_prices_the_logistic_loss_to_the_exact_optimum(monkeypatch):
    # As above for a loss of the proximal Newton solver (the hinge takes the same path): labels
    # +-1, the seed set small and no early stop; the exact set's optimum is the oracle.
    loss = "logistic"
    X, y = _data(16, 3, seed=11)
    y = np.where(y > np.median(y), 1.0, -1.0)
    exact = dualnet.activation_patterns(X, bias=True, method="exact")
    beta = 0.5
    reference = dualnet.fit_relu(X, y, beta, patterns=exact, bias=True, tol=1e-8, loss=loss)
    monkeypatch.setattr(dualnet.patterns, "DEFAULT_MAX_PATTERNS", 10)
    monkeypatch.setattr(column_generation, "DEFAULT_SEED_GATES", 4)
    monkeypatch.setattr(column_generation, "SEED_WIDTH", 0)
    monkeypatch.setattr(column_generation, "STALL_TOL", 0.0)
    monkeypatch.setattr(column_generation, "GAP_TOL", 0.0)
    fit = dualnet.fit_relu(X, y, beta, bias=True, tol=1e-8, random_state=0, loss=loss)
    assert fit.pricing.certificate == "relative" and fit.pricing.n_added > 0
    assert fit.pricing.stop == "no_violation" and len(fit.patterns) < len(exact)
    assert fit.primal_objective == pytest.approx(reference.primal_objective, rel=1e-6)
    with pytest.raises(ValueError, match="init is available for loss='squared' only"):
        dualnet.fit_relu(X, y, beta, init=np.ones((4, 2)), bias=True, loss=loss)


def test_the_returned_priced_fit_is_solved_to_tol(monkeypatch):
    # The rounds are solved loosely (ROUND_TOL); the fit returned over the final priced set is
    # certified to the caller's tol, 1e-6 by default, and an explicit tol is honoured.
    X, y = _data(30, 3, seed=5)
    monkeypatch.setattr(dualnet.patterns, "DEFAULT_MAX_PATTERNS", 10)
    priced = dualnet.fit_relu(X, y, 0.5, bias=True, random_state=0)
    assert priced.pricing.certificate == "relative"
    assert priced.converged and priced.relative_gap <= 1e-6
    tight = dualnet.fit_relu(X, y, 0.5, bias=True, random_state=0, tol=1e-10)
    assert tight.converged and tight.relative_gap <= 1e-10
    loose = dualnet.fit_relu(X, y, 0.5, bias=True, random_state=0, tol=1e-2)
    assert loose.converged and loose.relative_gap <= 1e-2
    assert loose.primal_objective >= tight.dual_objective


def _distances(patterns):
    return dualnet._core.pattern_distances(patterns.pattern_set, patterns.pattern_set)


def test_the_priced_set_stays_spread_out(monkeypatch):
    # From 200 rows on, patterns within THIN_DISTANCE * n rows of a pattern with a larger block
    # leave the set, and pricing skips violators within MIN_DISTANCE * n rows of the set: the
    # final set is spread out, and the fit over it is still certified to tol.
    X, y = _data(400, 6, seed=12)
    beta = 8.0
    monkeypatch.setattr(dualnet.patterns, "DEFAULT_MAX_PATTERNS", 10)
    fit = dualnet.fit_relu(X, y, beta, random_state=0)
    report = fit.pricing
    h = int(column_generation.THIN_DISTANCE * 400)
    assert report.thin_distance == h == 2 and report.n_thinned > 0
    assert report.min_distance == int(column_generation.MIN_DISTANCE * 400)
    distances = _distances(fit.patterns)
    assert distances[np.triu_indices(len(fit.patterns), 1)].min() > h
    assert fit.converged and fit.relative_gap <= 1e-6
    # Polishing does not thin (that could lose the seed network's own patterns): never worse
    # than the network it starts from.
    U, a = fit.first_layer[:, :3], fit.second_layer[:3]
    seed_objective = network_objective(X, y, beta, U, a)
    polished = dualnet.fit_relu(X, y, beta, init=(U, a), random_state=0)
    assert polished.pricing.n_thinned == 0 and polished.pricing.thin_distance == 0
    assert polished.pricing.min_distance == report.min_distance
    assert polished.primal_objective <= seed_objective * (1 + 1e-6)


def test_stopping_on_near_violators_only_is_reported(monkeypatch):
    # With a separation of a third of the rows, every violator the search finds is near the set
    # and skipped: the loop stops on "near_only" and reports those violations (they are real: a
    # search at the returned dual point without skipping finds violators as well).
    X, y = _data(60, 3, seed=12)
    beta = 1.2
    monkeypatch.setattr(dualnet.patterns, "DEFAULT_MAX_PATTERNS", 10)
    monkeypatch.setattr(column_generation, "MIN_DISTANCE", 0.3)
    monkeypatch.setattr(column_generation, "THIN_DISTANCE", 0.3)
    fit = dualnet.fit_relu(X, y, beta, random_state=0)
    report = fit.pricing
    assert report.stop == "near_only" and report.n_near > 0
    assert report.max_violation > column_generation.PRICE_TOL
    assert fit.converged and fit.relative_gap <= 1e-6
    again = dualnet.price_patterns(X, fit.dual, beta, fit.patterns, random_state=1)
    assert len(again) > 0 and again.max_value > beta


@pytest.mark.parametrize("bias, beta, tol", [(False, 1.0, 1e-6), (True, 1.0, 1e-4)])
def test_polishing_is_never_worse_than_the_seed_network(bias, beta, tol):
    X, y = _data(40, 3, seed=3)
    Xa = _augment(X, bias)
    for seed in range(2):
        trained = train_relu_network(Xa, y, beta, 6, n_starts=1, max_iter=2000, random_state=seed)
        U, a = trained.first_layer, trained.second_layer
        seed_objective = network_objective(Xa, y, beta, U, a)
        for init in (U, (U, a)):
            fit = dualnet.fit_relu(X, y, beta, init=init, bias=bias, tol=tol, random_state=0)
            # Within the certified relative gap tol of a program whose optimum is at most the
            # seed's objective.
            assert fit.primal_objective <= seed_objective * (1 + tol)
            # The returned network attains the convex objective (exact map back).
            assert network_objective(Xa, y, beta, fit.first_layer, fit.second_layer) == (
                pytest.approx(fit.primal_objective, rel=1e-9))
            assert fit.pricing.certificate == "relative"


def test_polishing_from_a_scikit_learn_network():
    sklearn_nn = pytest.importorskip("sklearn.neural_network")
    X, y = _data(40, 3, seed=4)
    net = sklearn_nn.MLPRegressor(hidden_layer_sizes=(5,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unconverged network is a fine seed
        net.fit(X, y)
    fit = dualnet.fit_relu(X, y, 3.0, init=net, bias=True, tol=1e-4, random_state=0)
    Xa = _augment(X, True)
    hidden = np.vstack([net.coefs_[0], net.intercepts_[0][None, :]])
    # Never worse than the convex optimum over the network's own patterns.
    own = dualnet.Patterns.from_masks(Xa @ hidden >= 0, hidden, bias=True)
    over_own = dualnet.fit_relu(X, y, 3.0, patterns=own, bias=True, tol=1e-8)
    assert fit.primal_objective <= over_own.primal_objective * (1 + 1e-4)
    assert fit.converged


def test_polishing_a_pytorch_network():
    torch = pytest.importorskip("torch")
    X, y = _data(40, 3, seed=6)
    beta = 1.0
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    net = net.double()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(300):
        optimizer.zero_grad()
        residual = net(Xt)[:, 0] - yt
        loss = 0.5 * residual @ residual + 0.5 * beta * sum((p * p).sum() for p in net.parameters())
        loss.backward()
        optimizer.step()
    # The same network in this library's form (the output bias becomes one more neuron), and its
    # weight-decay objective computed independently.
    U, a, _ = dualnet.interop.network_weights(net, bias=True)
    Xa = _augment(X, True)
    seed_objective = network_objective(Xa, y, beta, U, a)
    with torch.no_grad():
        np.testing.assert_allclose(np.maximum(Xa @ U, 0) @ a, net(Xt)[:, 0].numpy(), atol=1e-10)
    fit = dualnet.fit_relu(X, y, beta, init=net, bias=True, tol=1e-6, random_state=0)
    assert fit.primal_objective <= seed_objective * (1 + 1e-6)
    with pytest.raises(ValueError, match="init"):  # hidden biases need bias=True
        dualnet.fit_relu(X, y, beta, init=net, bias=False)


def test_validation():
    X, y = _data(10, 2, seed=5)
    with pytest.raises(ValueError, match="patterns"):
        dualnet.fit_relu(X, y, 0.1, patterns="all")
    with pytest.raises(ValueError, match="init"):
        dualnet.fit_relu(X, y, 0.1, init=np.ones((3, 2)))
    with pytest.raises(ValueError, match="init"):
        dualnet.fit_relu(X, y, 0.1, init=(np.ones((2, 2)), np.ones(3)))
    with pytest.raises(ValueError, match="init"):
        dualnet.fit_relu(X, y, 0.1, init=np.full((2, 2), np.nan))


@pytest.mark.parametrize("near", [0, 3])
def test_the_wide_pass_only_runs_to_confirm_a_stop_without_violation(near, monkeypatch):
    # A stand-in pricer that finds no violator at the loose dual point of the first round (so the
    # next round is solved to tol), then no violator to add but `near` skipped ones barely above
    # beta (estimated gap far below GAP_TOL). With near violators the loop stops on "gap" after
    # the normal pass; with none it first runs the wide pass and stops on "no_violation".
    X, y = _data(30, 3, seed=5)
    beta = 0.5
    monkeypatch.setattr(dualnet.patterns, "DEFAULT_MAX_PATTERNS", 10)
    widths = []

    def price(Xa, dual, beta_, patterns, model, rng, n_starts, max_add, min_distance=0):
        widths.append(n_starts)
        empty = dualnet._core.PatternSet.from_masks(np.zeros((Xa.shape[0], 0), dtype=bool),
                                                    np.zeros((Xa.shape[1], 0)))
        skipped = near if len(widths) > 1 else 0
        value = beta_ * (1 + 1e-6) if skipped else 0.5 * beta_
        return empty, np.zeros(0), np.zeros((0, Xa.shape[1])), value, n_starts, 0, skipped

    monkeypatch.setattr(column_generation, "_price", price)
    fit = dualnet.fit_relu(X, y, beta, bias=True, random_state=0)
    normal, wide = column_generation._N_STARTS, column_generation._N_WIDE
    if near:
        assert fit.pricing.stop == "gap" and widths == [normal, normal]
    else:
        assert fit.pricing.stop == "no_violation" and widths == [normal, normal, wide]
    assert fit.converged and fit.relative_gap <= 1e-6
