"""The sanitizer build is really sanitized: a deliberate error is reported and ends the process.

``_core._sanitizer_probe`` exists only in builds configured with DUALNET_SANITIZE=ON. Elsewhere
these tests skip, unless DUALNET_EXPECT_SANITIZER=1 (set by .ci/run for its sanitizer run), where a
missing probe means the run that should be sanitized is not, and is a failure.
"""

import os
import pathlib
import subprocess
import sys

import pytest

from dualnet import _core

SANITIZED_BUILD = hasattr(_core, "_sanitizer_probe")


def _runtime_loaded() -> bool:
    maps = pathlib.Path("/proc/self/maps")
    return maps.exists() and "libasan" in maps.read_text()


@pytest.fixture
def sanitized_build():
    if not SANITIZED_BUILD:
        if os.environ.get("DUALNET_EXPECT_SANITIZER") == "1":
            pytest.fail("DUALNET_EXPECT_SANITIZER=1 but _core was built without DUALNET_SANITIZE")
        pytest.skip("built without DUALNET_SANITIZE")


def _run_probe(kind: str) -> subprocess.CompletedProcess:
    code = f"from dualnet import _core; _core._sanitizer_probe({kind!r}); print('survived')"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )


def test_address_sanitizer_reports_heap_overflow(sanitized_build):
    proc = _run_probe("heap-buffer-overflow")
    assert "ERROR: AddressSanitizer: heap-buffer-overflow" in proc.stderr, proc.stderr
    assert proc.returncode != 0
    assert "survived" not in proc.stdout


def test_undefined_behavior_sanitizer_halts_on_overflow(sanitized_build):
    proc = _run_probe("signed-integer-overflow")
    assert "runtime error: signed integer overflow" in proc.stderr, proc.stderr
    assert proc.returncode != 0
    assert "survived" not in proc.stdout


def test_probe_in_range_is_silent(sanitized_build):
    # Offsets that stay in bounds: no report, so the reports above come from the errors themselves.
    assert _core._sanitizer_probe("heap-buffer-overflow", -1) == 3
    assert _core._sanitizer_probe("signed-integer-overflow", 1) == 2**31 - 1
    with pytest.raises(ValueError, match="kind"):
        _core._sanitizer_probe("no-such-error")


@pytest.mark.skipif(not pathlib.Path("/proc/self/maps").exists(), reason="needs /proc")
def test_probe_exists_exactly_in_sanitized_builds():
    # The probe and the sanitizer runtime come together: a sanitized module cannot be imported
    # without the runtime loaded, and the probe is compiled only into sanitized modules.
    assert SANITIZED_BUILD == _runtime_loaded()
