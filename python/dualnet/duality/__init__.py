"""The duality toolkit: closed-form optimal networks, optimal neurons from the dual, certificates.

Ergen & Pilanci, *Convex Duality of Deep Neural Networks* (2020): optimal hidden weights of a
norm-regularized network are extreme points of the dual constraint set; deep linear layers are
rank one and aligned; rank-one and whitened data give closed forms. Each function here returns
every layer's weights together with the dual certificate where strong duality holds.
"""

from ._two_path import ReLUNetworkSolution
from .certify import Certificate, certify, certify_linear
from .linear import DeepLinearSolution, deep_linear
from .losses import (
    CrossEntropyLoss,
    DualPoint,
    HingeLoss,
    LogisticLoss,
    Loss,
    SquaredLoss,
    feasible_dual_point,
    get_loss,
)
from .neurons import OptimalNeurons, optimal_neurons
from .rank_one import rank_one_relu
from .spline import Spline1D, spline_1d
from .whitened import whitened_relu

__all__ = [
    "Certificate",
    "CrossEntropyLoss",
    "DeepLinearSolution",
    "DualPoint",
    "HingeLoss",
    "LogisticLoss",
    "Loss",
    "OptimalNeurons",
    "ReLUNetworkSolution",
    "Spline1D",
    "SquaredLoss",
    "certify",
    "certify_linear",
    "deep_linear",
    "feasible_dual_point",
    "get_loss",
    "optimal_neurons",
    "rank_one_relu",
    "spline_1d",
    "whitened_relu",
]
