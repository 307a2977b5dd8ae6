"""Requests that cannot fit fail before allocating, with the estimate in the message."""

import os
import re

import numpy as np
import pytest

from dualnet import _core


def _physical_memory():
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_default_budget_is_half_of_memory(monkeypatch):
    monkeypatch.delenv("DUALNET_MEMORY_BUDGET", raising=False)
    budget = _core.default_memory_budget()
    assert 0 < budget <= _physical_memory() // 2 + 1


def test_environment_sets_the_budget(monkeypatch):
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", "12345")
    assert _core.default_memory_budget() == 12345
    for bad in ["", "12k", "-5", "1e9", "99999999999999999999999"]:
        monkeypatch.setenv("DUALNET_MEMORY_BUDGET", bad)
        with pytest.raises(ValueError, match="DUALNET_MEMORY_BUDGET"):
            _core.default_memory_budget()


def test_check_passes_within_budget_and_names_the_estimate_above():
    _core.check_memory_budget(1000, "a thing", 1000)
    with pytest.raises(MemoryError) as info:
        _core.check_memory_budget(3 * 2**30, "a thing", 2**30)
    message = str(info.value)
    assert message.startswith("a thing needs about 3.00 GiB (3221225472 bytes)")
    assert "1.00 GiB (1073741824 bytes)" in message


def test_saturated_estimate_is_reported_as_such():
    with pytest.raises(MemoryError, match="more than 16 EiB"):
        _core.check_memory_budget(2**64 - 1, "everything", 2**40)


def test_pattern_set_over_budget_fails_before_allocating(monkeypatch):
    masks = np.zeros((64, 200), dtype=bool)  # 200 patterns of one word: 1600 bytes packed
    gates = np.zeros((0, 200))
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", "1599")
    with pytest.raises(MemoryError, match=r"200 patterns of 64 rows needs about 1\.56 KiB \(1600 bytes\)"):
        _core.PatternSet.from_masks(masks, gates)
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", "1600")
    assert len(_core.PatternSet.from_masks(masks, gates)) == 200


def test_dense_masks_over_budget_fail_but_the_packed_set_works(monkeypatch):
    rng = np.random.default_rng(0)
    masks = rng.random((640, 10)) > 0.5  # packed: 10 patterns x 10 words = 800 bytes; dense 6400
    s = _core.PatternSet.from_masks(masks, np.ones((1, 10)))
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", "6399")
    with pytest.raises(MemoryError, match=re.escape("dense masks of 10 patterns of 640 rows")):
        s.masks()
    np.testing.assert_array_equal(s.counts(), masks.sum(axis=0))  # no allocation of n x P
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", "6400")
    np.testing.assert_array_equal(s.masks(), masks)
