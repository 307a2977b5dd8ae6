"""The numpy trainer shared by the seeding network and the experiments (dualnet._training).

Oracles: central finite differences of the objective for the gradients (squared and logistic
losses, two and three layers), the buffer-free path for the buffered one, and the objective's
own value for Adam's progress.
"""

import numpy as np
import pytest

from dualnet import _training
from dualnet._local_search import train_network
from dualnet._network import relu_network_objective
from dualnet.duality.losses import get_loss


def _problem(seed, n=30, d=4, loss="squared"):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal((n, 1))
    if loss == "logistic":
        y = np.sign(y)
    return rng, X, y


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("sizes", [[4, 7, 1], [4, 5, 3, 1], [4, 6, 1, 1]])
def test_gradients_match_finite_differences(loss, sizes):
    rng, X, y = _problem(0, loss=loss)
    layers = _training.random_layers(rng, sizes, scale=1.0)
    beta = 0.3
    fn = get_loss(loss)
    grads = _training._gradients(X, y, layers, beta, True, range(len(layers)), fn)
    h = 1e-6
    for k, W in enumerate(layers):
        numeric = np.zeros_like(W)
        for index in np.ndindex(W.shape):
            plus = [L.copy() for L in layers]
            minus = [L.copy() for L in layers]
            plus[k][index] += h
            minus[k][index] -= h
            up = _training.objective(X, y, plus, beta, relu=True, loss=loss)
            down = _training.objective(X, y, minus, beta, relu=True, loss=loss)
            numeric[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("relu", [True, False])
def test_buffered_gradients_equal_the_plain_ones(relu):
    rng, X, y = _problem(1)
    y = np.hstack([y, -y])  # two outputs: the matmul branch of the back-propagation
    fn = get_loss("squared")
    work = {}
    for sizes in ([4, 6, 1], [4, 6, 5, 2], [4, 6, 5, 2]):  # the last call reuses the buffers
        layers = _training.random_layers(rng, sizes)
        target = y[:, : sizes[-1]]
        plain = _training._gradients(X, target, layers, 0.1, relu, range(len(sizes) - 1), fn)
        buffered = _training._gradients(X, target, layers, 0.1, relu, range(len(sizes) - 1), fn,
                                        work)
        for a, b in zip(plain, buffered):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("decay", [True, False, "linear"])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_adam_lowers_the_objective_and_is_deterministic(decay, loss):
    rng, X, y = _problem(2, loss=loss)
    layers = _training.random_layers(rng, [4, 10, 1])
    runs = [_training.adam(X, y, layers, 0.1, relu=True, steps=300, lr=1e-2, decay=decay,
                           loss=loss, record=10) for _ in range(2)]
    first = _training.objective(X, y, layers, 0.1, relu=True, loss=loss)
    final = _training.objective(X, y, list(runs[0].layers), 0.1, relu=True, loss=loss)
    assert runs[0].final == final < 0.9 * first
    assert runs[0].objectives[0] == first
    for a, b in zip(runs[0].layers, runs[1].layers):
        np.testing.assert_array_equal(a, b)


def test_adam_refuses_an_unknown_schedule():
    rng, X, y = _problem(3)
    with pytest.raises(ValueError, match="decay"):
        _training.adam(X, y, _training.random_layers(rng, [4, 3, 1]), 0.1, relu=True, steps=1,
                       decay="cosine")


def test_seeding_network_is_the_adam_network_in_original_units():
    # train_network solves in rescaled units; its network, scored in the original units, is
    # far below the zero network's objective 1/2 ||y||^2 and the call is reproducible.
    rng, X, y = _problem(4, n=60)
    X = 10.0 * X
    y = 3.0 * y[:, 0] + X[:, 0]
    beta = 1.0
    first, second = train_network(X, y, beta, np.random.default_rng(5), width=8, steps=400)
    again = train_network(X, y, beta, np.random.default_rng(5), width=8, steps=400)
    np.testing.assert_array_equal(first, again[0])
    assert first.shape == (4, 8) and second.shape == (8,)
    value = relu_network_objective(X, y, beta, first, second)
    assert value < 0.2 * (0.5 * y @ y)
