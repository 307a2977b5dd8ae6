"""Long fuzzing run: every fuzz suite (tests/test_fuzz_*.py) with many random examples.

CI runs the same suites on a fixed, derandomized corpus (profile ``ci``, tests/conftest.py). This
script explores instead: fresh random examples each run, failures kept in hypothesis' example
database (.hypothesis/) and replayed first next time. A watchdog ends a test that runs longer than
``--watchdog`` seconds and prints every thread's stack, so a hang is reported, not waited out.

    python tests/fuzz_long.py                      # 5000 examples per test
    python tests/fuzz_long.py --examples 50000 -x  # further arguments go to pytest
    python tests/fuzz_long.py --sanitized          # against a DUALNET_SANITIZE build (.ci/run)
"""

import argparse
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per test")
    parser.add_argument("--watchdog", type=float, default=1800.0, help="seconds per test")
    parser.add_argument("--sanitized", action="store_true",
                        help="expect a sanitizer build: fail if the sanitizer probe is missing")
    args, pytest_args = parser.parse_known_args(argv)
    env = dict(os.environ, DUALNET_HYPOTHESIS_PROFILE="long",
               DUALNET_FUZZ_EXAMPLES=str(args.examples), DUALNET_FUZZ_WATCHDOG=str(args.watchdog))
    files = sorted(str(p) for p in HERE.glob("test_fuzz_*.py"))
    capture = []
    if args.sanitized:
        env["DUALNET_EXPECT_SANITIZER"] = "1"
        files.append(str(HERE / "test_sanitizer.py"))
        # Let a sanitizer report reach the terminal although it ends the process (as .ci/run).
        capture = ["--capture=sys"]
    command = [sys.executable, "-m", "pytest", *capture, *files, *pytest_args]
    return subprocess.call(command, env=env, cwd=HERE.parent)


if __name__ == "__main__":
    sys.exit(main())
