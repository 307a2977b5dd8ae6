"""dualnet: regularized neural networks trained to certified global optimality by convex duality.

The theory (Ergen & Pilanci, *Convex Duality of Deep Neural Networks*; Pilanci & Ergen, *Neural
Networks are Convex Regularizers*, ICML 2020): the weight-decay training problem of a two-layer
ReLU network equals a convex program over activation patterns, and its dual certifies optimality.
"""

from importlib.metadata import PackageNotFoundError, version

from .duality import (
    Certificate,
    DeepLinearSolution,
    OptimalNeurons,
    ReLUNetworkSolution,
    Spline1D,
    certify,
    certify_linear,
    deep_linear,
    optimal_neurons,
    rank_one_relu,
    spline_1d,
    whitened_relu,
)

try:
    __version__ = version("dualnet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Certificate",
    "DeepLinearSolution",
    "OptimalNeurons",
    "ReLUNetworkSolution",
    "Spline1D",
    "__version__",
    "certify",
    "certify_linear",
    "deep_linear",
    "optimal_neurons",
    "rank_one_relu",
    "spline_1d",
    "whitened_relu",
]
