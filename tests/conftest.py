"""Shared test configuration: hypothesis profiles for the property and fuzz suites.

- ``ci`` (default): derandomized, so every run checks the same fixed corpus of examples, with a
  bounded number of examples per test and no example database. Failures reproduce exactly.
- ``long``: random exploration with many more examples and a database of failures found
  (``python tests/fuzz_long.py`` or ``pytest --hypothesis-profile=long tests/test_fuzz_*.py``).

No deadline in either: tests never assert times (a hang is caught by tests/fuzz_long.py's
watchdog instead, DUALNET_FUZZ_WATCHDOG seconds per test).
"""

import faulthandler
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    deadline=None,
    max_examples=int(os.environ.get("DUALNET_FUZZ_EXAMPLES", "5000")),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("DUALNET_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _watchdog():
    seconds = float(os.environ.get("DUALNET_FUZZ_WATCHDOG", "0"))
    if seconds > 0:  # print every thread's stack and exit if the test hangs
        faulthandler.dump_traceback_later(seconds, exit=True, file=sys.__stderr__)
    yield
    if seconds > 0:
        faulthandler.cancel_dump_traceback_later()
