"""Every docstring example of the duality toolkit runs and prints what it says."""

import doctest
import importlib
import pkgutil

import dualnet.duality
import pytest

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(dualnet.duality.__path__, prefix="dualnet.duality.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_functions_have_examples():
    for fn in (dualnet.deep_linear, dualnet.whitened_relu, dualnet.rank_one_relu):
        assert ">>> " in fn.__doc__, fn.__name__
