"""Every docstring example of the duality toolkit runs and prints what it says."""

import doctest
import importlib
import pkgutil

import dualnet.duality
import pytest
from dualnet import _core

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(dualnet.duality.__path__, prefix="dualnet.duality.")
)


# Examples that train a network need the compiled convex solver.
NEEDS_SOLVER = {"dualnet.duality.certify", "dualnet.duality.neurons", "dualnet.duality.spline"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name in NEEDS_SOLVER and not hasattr(_core, "project_onto_pattern_cone"):
        pytest.skip("needs the compiled convex solver")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_functions_have_examples():
    for fn in (
        dualnet.deep_linear,
        dualnet.whitened_relu,
        dualnet.rank_one_relu,
        dualnet.spline_1d,
        dualnet.optimal_neurons,
        dualnet.certify,
        dualnet.duality.certify_linear,
    ):
        assert ">>> " in fn.__doc__, fn.__name__
