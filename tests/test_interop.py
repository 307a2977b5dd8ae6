"""Networks in and out of dualnet: PyTorch, scikit-learn, plain numpy weights (dualnet.interop)."""

import warnings

import numpy as np
import pytest

import dualnet
from dualnet.interop import NetworkWeights, load_network, network_weights, save_network


def _data(n=12, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def _mlp(X, y, alpha, hidden=(6,), activation="relu", seed=0):
    from sklearn.neural_network import MLPRegressor

    mlp = MLPRegressor(hidden_layer_sizes=hidden, activation=activation, solver="lbfgs",
                       alpha=alpha, max_iter=300, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may stop on max_iter: any network will do
        return mlp.fit(X, y)


def _relu_objective(X, y, beta, U, a, bias):
    Xa = np.c_[X, np.ones(len(X))] if bias else X
    r = np.maximum(Xa @ U, 0) @ a - y
    return 0.5 * r @ r + 0.5 * beta * (np.sum(U * U) + a @ a)


# scikit-learn


def test_mlp_regressor_weights_reproduce_its_predictions():
    X, y = _data()
    mlp = _mlp(X, y, alpha=0.3)
    U, a, bias = network_weights(mlp)
    assert bias and U.shape == (3, 7) and a.shape == (7,)  # 6 neurons + the output bias
    np.testing.assert_allclose(np.maximum(np.c_[X, np.ones(12)] @ U, 0) @ a, mlp.predict(X),
                               rtol=0, atol=1e-12)


def test_mlp_regressor_alpha_is_beta():
    # The docstring's claim, from scikit-learn's own loss: n * loss_ = 1/2||r||^2 + alpha/2 ||W||^2.
    X, y = _data(seed=1)
    mlp = _mlp(X, y, alpha=0.3)
    r = mlp.predict(X) - y
    weights = sum(np.sum(W * W) for W in mlp.coefs_)
    assert len(y) * mlp.loss_ == pytest.approx(0.5 * r @ r + 0.15 * weights, rel=1e-9)


def test_certify_accepts_an_mlp_regressor():
    X, y = _data(seed=2)
    beta = 0.3
    mlp = _mlp(X, y, alpha=beta)
    cert = dualnet.certify(X, y, beta, mlp)
    U, a, _ = network_weights(mlp)
    by_hand = dualnet.certify(X, y, beta, U, a, bias=True)
    assert cert.primal_objective == by_hand.primal_objective
    assert cert.lower_bound == by_hand.lower_bound
    # the primal counts the output bias o as a neuron: beta ||o|| on top of scikit-learn's penalty
    o = abs(mlp.intercepts_[1][0])
    r = mlp.predict(X) - y
    weights = sum(np.sum(W**2) for W in (mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1]))
    assert cert.primal_objective == pytest.approx(0.5 * r @ r + 0.5 * beta * weights + beta * o,
                                                  rel=1e-12)
    optimum = dualnet.fit_relu(X, y, beta, bias=True, tol=1e-9)
    assert cert.lower_bound <= optimum.primal_objective + 1e-9 <= cert.primal_objective + 1e-9


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="tanh"), "activation is 'tanh'"),
    (dict(hidden=(4, 4)), "2 hidden layers"),
])
def test_unsupported_mlps_are_refused(kwargs, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        network_weights(_mlp(X, y, 0.1, **kwargs))
    with pytest.raises(ValueError, match="first_layer: .*" + match):
        dualnet.certify(X, y, 0.1, _mlp(X, y, 0.1, **kwargs))


def test_unfitted_and_classifier_mlps_are_refused():
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    with pytest.raises(ValueError, match="not fitted"):
        network_weights(MLPRegressor())
    with pytest.raises(ValueError, match="MLPClassifier"):
        network_weights(MLPClassifier())


# pairs, ReLUFit and files


def test_pairs_and_bias_flags():
    U = np.arange(6.0).reshape(3, 2)
    a = np.array([1.0, -1.0])
    assert network_weights((U, a)).bias is False
    with_bias = network_weights((U, a), bias=True)
    assert with_bias.bias and with_bias.first_layer.shape == (3, 2)
    zero_bias = network_weights(NetworkWeights(np.vstack([U, 0 * U[:1]]), a, True), bias=False)
    np.testing.assert_array_equal(zero_bias.first_layer, U)
    with pytest.raises(ValueError, match="nonzero hidden biases"):
        network_weights(NetworkWeights(U, a, True), bias=False)
    with pytest.raises(ValueError, match="shapes"):
        network_weights((U, a[:1]))
    with pytest.raises(ValueError, match="NaN"):
        network_weights((U * np.nan, a))
    with pytest.raises(TypeError, match="model must be"):
        network_weights(U)
    with pytest.raises(TypeError, match="second_layer is required"):
        dualnet.certify(np.ones((3, 3)), np.ones(3), 0.1, U)


def test_relu_fit_numpy_export_and_npz_roundtrip(tmp_path):
    X, y = _data(seed=3)
    fit = dualnet.fit_relu(X, y, 0.4, bias=True, tol=1e-9)
    weights = fit.to_numpy()
    assert weights.first_layer.flags.writeable
    np.testing.assert_array_equal(network_weights(fit).first_layer, fit.first_layer)
    save_network(tmp_path / "net.npz", weights.first_layer, weights.second_layer,
                 bias=weights.bias, beta=fit.beta)
    loaded = load_network(tmp_path / "net.npz")
    assert loaded.bias is True
    np.testing.assert_array_equal(loaded.first_layer, fit.first_layer)
    np.testing.assert_array_equal(loaded.predict(X), fit.predict(X))
    np.savez(tmp_path / "other.npz", X=X)
    with pytest.raises(ValueError, match="missing first_layer, second_layer"):
        load_network(tmp_path / "other.npz")


# PyTorch


@pytest.mark.parametrize("bias", [False, True])
def test_to_torch_predicts_like_the_fit_and_certifies_the_same(bias):
    torch = pytest.importorskip("torch")
    X, y = _data(seed=4)
    beta = 0.5
    fit = dualnet.fit_relu(X, y, beta, bias=bias, tol=1e-10)
    module = fit.to_torch()
    assert isinstance(module, torch.nn.Sequential)
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    assert out.shape == (12, 1)
    np.testing.assert_allclose(out[:, 0], fit.predict(X), rtol=0, atol=1e-12)
    U, a, has_bias = network_weights(module)
    assert has_bias is bias
    np.testing.assert_array_equal(U, fit.first_layer)
    np.testing.assert_array_equal(a, fit.second_layer)
    cert = dualnet.certify(X, y, beta, module)
    assert cert.primal_objective == pytest.approx(fit.primal_objective, rel=1e-12)
    # certify bounds from the network's residual alone, so its gap is larger than the solver's
    assert cert.lower_bound <= fit.primal_objective and cert.relative_gap <= 1e-5


def test_torch_output_bias_becomes_a_neuron():
    torch = pytest.importorskip("torch")
    X, y = _data(seed=5)
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
    module = module.double()
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()[:, 0]
        o = float(module[2].bias[0])
    U, a, bias = network_weights(module)
    assert bias and U.shape == (3, 6)
    np.testing.assert_allclose(network_weights(module).predict(X), expected, rtol=0, atol=1e-12)
    cert = dualnet.certify(X, y, 0.2, module)
    weights = sum(float(torch.sum(p.detach() ** 2)) for n, p in module.named_parameters()
                  if n != "2.bias")
    r = expected - y
    assert cert.primal_objective == pytest.approx(0.5 * r @ r + 0.1 * weights + 0.2 * abs(o),
                                                  rel=1e-12)


def test_torch_models_that_do_not_fit_are_refused():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    no_hidden_bias = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="output layer has a bias but the hidden layer has none"):
        network_weights(no_hidden_bias)
    with torch.no_grad():
        no_hidden_bias[2].bias.zero_()
    assert network_weights(no_hidden_bias).bias is False  # a zero output bias is no bias
    with pytest.raises(ValueError, match="Tanh"):
        network_weights(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="expected nn.Sequential"):
        network_weights(nn.Linear(2, 3))
    with pytest.raises(ValueError, match="takes 4 inputs"):
        network_weights(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(4, 1)))


def test_torch_vector_outputs():
    torch = pytest.importorskip("torch")
    X, y = _data(seed=6)
    rng = np.random.default_rng(6)
    U, A = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    module = dualnet.interop.to_torch(U, A, bias=True)
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, np.maximum(np.c_[X, np.ones(12)] @ U, 0) @ A, atol=1e-12,
                               rtol=0)
    back = network_weights(module)
    np.testing.assert_array_equal(back.second_layer, A)
    with pytest.raises(ValueError, match="3 outputs"):
        dualnet.certify(X, y, 0.1, module)


def test_float32_modules_are_read_in_float64():
    torch = pytest.importorskip("torch")
    X, y = _data(seed=7)
    fit = dualnet.fit_relu(X, y, 0.5, tol=1e-8)
    module = fit.to_torch(dtype=torch.float32)
    U, a, _ = network_weights(module)
    assert U.dtype == np.float64
    np.testing.assert_allclose(U, fit.first_layer, rtol=1e-6)
    assert _relu_objective(X, y, 0.5, U, a, False) == pytest.approx(fit.primal_objective, rel=1e-5)
