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
from . import interop
from .batch import fit_relu_batch, problems_over_betas, problems_over_folds, problems_over_targets
from .column_generation import ColumnGeneration
from .exceptions import ConvergenceWarning
from .memory import MemoryEstimate, estimate_memory
from .patterns import Patterns, activation_patterns, count_patterns
from .pricing import PricingResult, price_patterns
from .sharded import ShardedFit, fit_gated_sharded
from .relu import ReLUFit, ReLUPath, beta_max, fit_relu, fit_relu_path

__all__ = [
    "Certificate",
    "ColumnGeneration",
    "ConvergenceWarning",
    "ConvexReLUClassifier",
    "ConvexReLURegressor",
    "ConvexReLURegressorCV",
    "DeepLinearSolution",
    "MemoryEstimate",
    "OptimalNeurons",
    "Patterns",
    "PricingResult",
    "ReLUFit",
    "ReLUNetworkSolution",
    "ReLUPath",
    "ShardedFit",
    "Spline1D",
    "__version__",
    "activation_patterns",
    "beta_max",
    "certify",
    "certify_linear",
    "count_patterns",
    "deep_linear",
    "estimate_memory",
    "fit_gated_sharded",
    "fit_relu",
    "fit_relu_batch",
    "fit_relu_path",
    "optimal_neurons",
    "price_patterns",
    "problems_over_betas",
    "problems_over_folds",
    "problems_over_targets",
    "rank_one_relu",
    "spline_1d",
    "whitened_relu",
]


def __getattr__(name):
    # The estimators need scikit-learn: imported on first use, not at `import dualnet`.
    if name == "ConvexReLURegressor":
        from .estimators import ConvexReLURegressor

        return ConvexReLURegressor
    if name == "ConvexReLURegressorCV":
        from .cross_validation import ConvexReLURegressorCV

        return ConvexReLURegressorCV
    if name == "ConvexReLUClassifier":
        from .classifier import ConvexReLUClassifier

        return ConvexReLUClassifier
    raise AttributeError(f"module 'dualnet' has no attribute {name!r}")
