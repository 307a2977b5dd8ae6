"""dualnet: regularized neural networks trained to certified global optimality by convex duality.

The theory (Ergen & Pilanci, *Convex Duality of Deep Neural Networks*; Pilanci & Ergen, *Neural
Networks are Convex Regularizers*, ICML 2020): the weight-decay training problem of a two-layer
ReLU network equals a convex program over activation patterns, and its dual certifies optimality.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dualnet")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

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
from .column_generation import ColumnGeneration
from .exceptions import ConvergenceWarning
from .patterns import Patterns, activation_patterns, count_patterns
from .pricing import PricingResult, price_patterns
from .relu import ReLUFit, ReLUPath, beta_max, fit_relu, fit_relu_path

__all__ = [
    "Certificate",
    "ColumnGeneration",
    "ConvergenceWarning",
    "ConvexReLUClassifier",
    "ConvexReLURegressor",
    "DeepLinearSolution",
    "OptimalNeurons",
    "Patterns",
    "PricingResult",
    "ReLUFit",
    "ReLUNetworkSolution",
    "ReLUPath",
    "Spline1D",
    "__version__",
    "activation_patterns",
    "beta_max",
    "certify",
    "certify_linear",
    "count_patterns",
    "deep_linear",
    "fit_relu",
    "fit_relu_path",
    "optimal_neurons",
    "price_patterns",
    "rank_one_relu",
    "spline_1d",
    "whitened_relu",
]


def __getattr__(name):
    # The estimators need scikit-learn: imported on first use, not at `import dualnet`.
    if name == "ConvexReLURegressor":
        from .estimators import ConvexReLURegressor

        return ConvexReLURegressor
    if name == "ConvexReLUClassifier":
        from .classifier import ConvexReLUClassifier

        return ConvexReLUClassifier
    raise AttributeError(f"module 'dualnet' has no attribute {name!r}")
