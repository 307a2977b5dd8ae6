"""Two-layer ReLU networks in and out of dualnet: PyTorch, scikit-learn and plain numpy weights.

dualnet's network is (X U)_+ a with U of shape (g, m) and a of shape (m,) (or (m, K) for vector
outputs); with hidden biases the data carry a ones column and the biases are the last row of U,
regularized like the other weights (docs/theory.md sections 1 and 7). :func:`network_weights`
reads that form from a PyTorch ``nn.Sequential(Linear, ReLU, Linear)``, a fitted scikit-learn
``MLPRegressor`` with one ReLU hidden layer, a :class:`dualnet.ReLUFit` or a pair (U, a);
:func:`to_torch` builds the PyTorch module back. :func:`save_network` and :func:`load_network`
store weights as a plain ``.npz`` file.

An output bias o is not part of the model, but a network with hidden biases can carry it exactly
as one more neuron: weights 0, bias sqrt(||o||), output weights o / sqrt(||o||) (a balanced
neuron, theory section 2). The predictions are unchanged; the output bias then counts in the
weight decay as beta ||o||. Without hidden biases an output bias has no counterpart and is
refused.

PyTorch is imported only by :func:`to_torch` (install the ``torch`` extra); scikit-learn only when
an estimator is given.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

import numpy as np

__all__ = ["NetworkWeights", "load_network", "network_weights", "save_network", "to_torch"]


class NetworkWeights(NamedTuple):
    """Weights of a two-layer ReLU network in dualnet's form (a named tuple: it unpacks as
    ``first_layer, second_layer, bias = network_weights(model)``).

    Attributes
    ----------
    first_layer : ndarray of shape (g, m)
        Hidden weights; g = d, or d + 1 with ``bias`` (last row: the hidden biases).
    second_layer : ndarray of shape (m,) or (m, K)
        Output weights (one column per output).
    bias : bool
        Whether the hidden neurons have biases (the data then get a ones column).
    """

    first_layer: np.ndarray
    second_layer: np.ndarray
    bias: bool

    def predict(self, X) -> np.ndarray:
        """Network output (X U)_+ a, shape (n,) or (n, K); X without the ones column."""
        X = np.asarray(X, dtype=np.float64)
        if self.bias:
            X = np.hstack([X, np.ones((X.shape[0], 1))])
        return np.maximum(X @ self.first_layer, 0.0) @ self.second_layer


def _finite(array, name) -> np.ndarray:
    array = np.array(array, dtype=np.float64)  # an owned copy
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _torch_module(model):
    """The torch module class if ``model`` is a torch module (torch is then already imported)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return torch
    return None


def _from_torch(torch, model, name):
    layers = list(model.children()) if isinstance(model, torch.nn.Sequential) else None
    nn = torch.nn
    if (
        layers is None
        or len(layers) != 3
        or not isinstance(layers[0], nn.Linear)
        or type(layers[1]) is not nn.ReLU
        or not isinstance(layers[2], nn.Linear)
    ):
        names = [type(layer).__name__ for layer in layers] if layers else type(model).__name__
        raise ValueError(
            f"{name}: expected nn.Sequential(Linear, ReLU, Linear), got {names}"
        )

    def array(tensor):
        return tensor.detach().to("cpu", torch.float64).numpy()

    first, second = layers[0], layers[2]
    if second.in_features != first.out_features:
        raise ValueError(
            f"{name}: the output layer takes {second.in_features} inputs but the hidden layer "
            f"has {first.out_features} neurons"
        )
    hidden_bias = None if first.bias is None else array(first.bias)
    output_bias = None if second.bias is None else array(second.bias)
    second_layer = array(second.weight).T
    if second_layer.shape[1] == 1:
        second_layer = second_layer[:, 0]
        output_bias = None if output_bias is None else output_bias[0]
    return array(first.weight).T, hidden_bias, second_layer, output_bias


def _from_sklearn(model, name):
    coefs = getattr(model, "coefs_", None)
    if coefs is None:
        raise ValueError(f"{name}: the {type(model).__name__} is not fitted (call fit first)")
    if len(coefs) != 2:
        raise ValueError(
            f"{name}: the {type(model).__name__} has {len(coefs) - 1} hidden layers; only one "
            "hidden layer is supported"
        )
    if model.activation != "relu":
        raise ValueError(f"{name}: the hidden activation is {model.activation!r}, not 'relu'")
    if getattr(model, "out_activation_", "identity") != "identity":
        raise ValueError(
            f"{name}: the output activation is {model.out_activation_!r}; only a regressor with "
            "identity output is supported"
        )
    second_layer = np.asarray(coefs[1], dtype=np.float64)
    output_bias = np.asarray(model.intercepts_[1], dtype=np.float64)
    if second_layer.shape[1] == 1:
        second_layer, output_bias = second_layer[:, 0], output_bias[0]
    return coefs[0], model.intercepts_[0], second_layer, output_bias


def _is_sklearn_mlp(model, name) -> bool:
    if not hasattr(model, "coefs_") and "sklearn" not in type(model).__module__:
        return False
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if isinstance(model, MLPClassifier):
        raise ValueError(
            f"{name}: an MLPClassifier has a non-linear output (logistic or softmax); only an "
            "MLPRegressor is supported"
        )
    return isinstance(model, MLPRegressor)


def network_weights(model, *, bias=None) -> NetworkWeights:
    """Read a two-layer ReLU network into dualnet's form (U, a, bias).

    Parameters
    ----------
    model : torch ``nn.Sequential(Linear, ReLU, Linear)``, fitted scikit-learn ``MLPRegressor``
        (one hidden layer, ``activation="relu"``), :class:`dualnet.ReLUFit`, NetworkWeights or
        pair (first_layer (g, m), second_layer (m,) or (m, K))
        The network. A pair is taken as it is: with ``bias=True`` the last row of its first
        layer holds the hidden biases.
    bias : bool or None, default=None
        Whether the result has hidden biases. None: as the model has them (a pair: no bias).
        True for a model without hidden biases appends a zero row; False for a model with hidden
        biases drops them if they are all zero and raises ValueError otherwise.

    Returns
    -------
    NetworkWeights
        ``first_layer`` (g, m), ``second_layer`` (m,) or (m, K), ``bias``; float64 copies.

    Raises
    ------
    ValueError
        For another architecture or activation, an unfitted estimator, weights with NaN or
        infinity, inconsistent shapes, hidden biases that ``bias=False`` would drop, or an output
        bias on a network without hidden biases (see the module notes: with hidden biases an
        output bias becomes one more neuron, regularized like the others).
    TypeError
        For an object that is none of the above.

    Examples
    --------
    >>> import numpy as np
    >>> from dualnet.interop import network_weights
    >>> U, a, bias = network_weights((np.ones((3, 2)), np.array([1.0, -1.0])))
    >>> U.shape, a.shape, bias
    ((3, 2), (2,), False)
    """
    return _network_weights(model, bias, "model")


def _network_weights(model, bias, name) -> NetworkWeights:
    """network_weights with the argument's name used in error messages."""
    if bias is not None and not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool or None, got {type(bias).__name__}")
    torch = _torch_module(model)
    if torch is not None:
        first, hidden_bias, second, output_bias = _from_torch(torch, model, name)
    elif isinstance(model, NetworkWeights) or (
        hasattr(model, "first_layer") and hasattr(model, "second_layer") and hasattr(model, "bias")
    ):
        return _from_pair(model.first_layer, model.second_layer, bool(model.bias), bias)
    elif isinstance(model, tuple):
        if len(model) != 2:
            raise ValueError(
                f"{name}: a tuple must be (first_layer, second_layer), got {len(model)} items"
            )
        return _from_pair(model[0], model[1], bool(bias), bias)
    elif _is_sklearn_mlp(model, name):
        first, hidden_bias, second, output_bias = _from_sklearn(model, name)
    else:
        raise TypeError(
            f"{name} must be a torch nn.Sequential(Linear, ReLU, Linear), a fitted scikit-learn "
            f"MLPRegressor, a ReLUFit or a (first_layer, second_layer) pair, got "
            f"{type(model).__name__}"
        )
    first = _finite(first, f"{name}'s hidden weights")
    second = _finite(second, f"{name}'s output weights")
    has_hidden_bias = hidden_bias is not None
    if bias is None:
        bias = has_hidden_bias
    if has_hidden_bias:
        hidden_bias = _finite(hidden_bias, f"{name}'s hidden biases")
        if not bias and np.any(hidden_bias != 0):
            raise ValueError(
                f"{name}: the hidden layer has nonzero biases but bias=False; pass bias=True (or "
                "None) to keep them"
            )
    if bias:
        row = hidden_bias if has_hidden_bias else np.zeros(first.shape[1])
        first = np.vstack([first, row[None, :]])
    if output_bias is not None:
        output_bias = _finite(output_bias, f"{name}'s output bias")
        size = float(np.linalg.norm(output_bias))
        if size > 0:
            if not bias:
                raise ValueError(
                    f"{name}: the output layer has a bias but the hidden layer has none; the "
                    "network (X U)_+ a can carry an output bias only as a neuron with a hidden "
                    "bias (pass bias=True, or train without the output bias)"
                )
            # The output bias as one balanced neuron: weights 0, bias sqrt(||o||), output
            # o / sqrt(||o||) (module notes).
            neuron = np.zeros((first.shape[0], 1))
            neuron[-1, 0] = np.sqrt(size)
            first = np.hstack([first, neuron])
            second = np.concatenate([second, np.reshape(output_bias / np.sqrt(size), (1,) +
                                                        second.shape[1:])])
    return NetworkWeights(np.ascontiguousarray(first), np.ascontiguousarray(second), bool(bias))


def _from_pair(first, second, has_bias, bias) -> NetworkWeights:
    first = _finite(first, "first_layer")
    second = _finite(second, "second_layer")
    if first.ndim != 2 or second.ndim not in (1, 2) or second.shape[0] != first.shape[1]:
        raise ValueError(
            "first_layer and second_layer must have shapes (g, m) and (m,) or (m, K), got "
            f"{first.shape} and {second.shape}"
        )
    if has_bias and first.shape[0] < 2:
        raise ValueError(
            f"first_layer has {first.shape[0]} row; with bias=True it needs the data's columns "
            "and a bias row"
        )
    if bias is not None and bool(bias) != has_bias:
        if has_bias:
            if np.any(first[-1] != 0):
                raise ValueError(
                    "the network has nonzero hidden biases but bias=False; pass bias=True (or "
                    "None) to keep them"
                )
            first = first[:-1]
        else:
            first = np.vstack([first, np.zeros((1, first.shape[1]))])
    return NetworkWeights(np.ascontiguousarray(first), np.ascontiguousarray(second),
                          bool(has_bias if bias is None else bias))


def to_torch(first_layer, second_layer, *, bias, dtype=None):
    """The network as a PyTorch ``nn.Sequential(Linear, ReLU, Linear)``.

    Parameters
    ----------
    first_layer : array-like of shape (g, m)
        g = d, or d + 1 with ``bias`` (last row: hidden biases).
    second_layer : array-like of shape (m,) or (m, K)
    bias : bool
        Whether the last row of ``first_layer`` holds hidden biases.
    dtype : torch.dtype, optional
        Default ``torch.float64``, so that the module's predictions equal
        ``(X U)_+ a`` to rounding.

    Returns
    -------
    torch.nn.Sequential
        ``Linear(d, m, bias=bias), ReLU(), Linear(m, K, bias=False)``; K = 1 for a vector
        ``second_layer`` (the module then outputs shape (n, 1)).

    Raises
    ------
    ImportError
        If PyTorch is not installed (``pip install "dualnet[torch]"``).
    """
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    weights = _from_pair(first_layer, second_layer, bool(bias), None)
    try:
        import torch
    except ImportError:
        raise ImportError(
            "to_torch needs PyTorch: pip install torch (or the 'torch' extra of dualnet)"
        ) from None
    dtype = torch.float64 if dtype is None else dtype
    U = weights.first_layer
    a = weights.second_layer.reshape(U.shape[1], -1)
    d = U.shape[0] - int(bias)
    hidden = torch.nn.Linear(d, U.shape[1], bias=bool(bias), dtype=dtype)
    output = torch.nn.Linear(U.shape[1], a.shape[1], bias=False, dtype=dtype)
    with torch.no_grad():
        hidden.weight.copy_(torch.from_numpy(np.ascontiguousarray(U[:d].T)))
        if bias:
            hidden.bias.copy_(torch.from_numpy(U[d].copy()))
        output.weight.copy_(torch.from_numpy(np.ascontiguousarray(a.T)))
    return torch.nn.Sequential(hidden, torch.nn.ReLU(), output)


def save_network(path, first_layer, second_layer, *, bias, **arrays) -> None:
    """Save a network as plain numpy weights in a ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
    first_layer : array-like of shape (g, m)
    second_layer : array-like of shape (m,) or (m, K)
    bias : bool
    **arrays
        Further arrays or numbers stored alongside (e.g. ``beta``, ``dual``).

    Notes
    -----
    Keys: ``first_layer``, ``second_layer``, ``bias`` (a 0-d bool), then ``arrays``; readable
    with ``numpy.load`` alone.
    """
    weights = _from_pair(first_layer, second_layer, bool(bias), None)
    np.savez(os.fspath(path), first_layer=weights.first_layer,
             second_layer=weights.second_layer, bias=np.bool_(weights.bias), **arrays)


def load_network(path) -> NetworkWeights:
    """Load the weights written by :func:`save_network`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    NetworkWeights

    Raises
    ------
    ValueError
        If the file lacks ``first_layer`` or ``second_layer``.
    """
    with np.load(os.fspath(path), allow_pickle=False) as data:
        missing = [key for key in ("first_layer", "second_layer") if key not in data.files]
        if missing:
            raise ValueError(
                f"{os.fspath(path)} holds no network: missing {', '.join(missing)} "
                f"(it has {', '.join(data.files) or 'no arrays'})"
            )
        bias = bool(data["bias"]) if "bias" in data.files else False
        return _from_pair(data["first_layer"], data["second_layer"], bias, None)
