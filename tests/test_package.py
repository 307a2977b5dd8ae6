import numpy as np
import pytest

import dualnet
from dualnet import _core


def test_version_from_metadata():
    assert dualnet.__version__ != "0+unknown"
    assert dualnet.__version__.count(".") >= 2


def test_pattern_set_round_trip():
    rng = np.random.default_rng(0)
    masks = rng.random((130, 7)) > 0.5  # three words per pattern, a partial last word
    gates = rng.standard_normal((4, 7))
    s = _core.PatternSet.from_masks(masks, gates)
    assert len(s) == 7 and s.n_rows == 130 and s.gate_dim == 4
    np.testing.assert_array_equal(s.masks(), masks)
    np.testing.assert_array_equal(s.gates(), gates)
    np.testing.assert_array_equal(s.counts(), masks.sum(axis=0))
    assert s.memory_bytes == 7 * 3 * 8 + 7 * 4 * 8


def test_pattern_set_rejects_mismatched_gates():
    with pytest.raises(ValueError, match="columns"):
        _core.PatternSet.from_masks(np.zeros((3, 2), bool), np.zeros((2, 3)))
