"""Threads, determinism across runs and processes, and interrupts.

- Several enumerations and solves at once from Python threads give bit for bit the results of
  serial runs (the core releases the GIL and shares no mutable state between calls).
- A fixed random_state gives bit-identical results in a fresh process, whatever its hash seed.
- A long enumeration or solve stops on KeyboardInterrupt (Ctrl-C, or any SIGINT), raised in the
  caller, and the interpreter goes on working.

Hang guards (subprocess timeouts) bound how long a broken build can block the suite; no test
asserts a duration.
"""

import _thread
import concurrent.futures
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from reproducibility_jobs import JOBS, digest

import dualnet
from dualnet import _core

HERE = pathlib.Path(__file__).resolve().parent
HANG_GUARD = 600  # seconds; only a hung build gets near it


@pytest.fixture(scope="module")
def serial_digests():
    return {name: digest(job()) for name, job in JOBS.items()}


def test_repeated_runs_are_identical(serial_digests):
    assert {name: digest(job()) for name, job in JOBS.items()} == serial_digests


def test_threads_give_the_serial_results(serial_digests):
    # Every job twice, four threads: solves and enumerations overlap in the core.
    names = [name for name in JOBS for _ in range(2)]
    start = threading.Barrier(4)

    def run(name):
        try:
            start.wait(timeout=60)  # the first four begin together
        except threading.BrokenBarrierError:
            pass
        return name, digest(JOBS[name]())

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, names))
    for name, value in results:
        assert value == serial_digests[name], name


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_fresh_processes_give_the_same_results(serial_digests, hash_seed):
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    proc = subprocess.run(
        [sys.executable, str(HERE / "reproducibility_jobs.py")],
        capture_output=True, text=True, timeout=HANG_GUARD, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # (lines other than "name digest", such as an editable install's rebuild report, are skipped)
    printed = dict(p for p in map(str.split, proc.stdout.splitlines()) if p and p[0] in JOBS)
    assert printed == serial_digests


def test_random_state_changes_sampled_patterns():
    # The digests above are not constant by accident: another seed gives other patterns.
    X = np.random.default_rng(2).standard_normal((60, 6))
    a = dualnet.activation_patterns(X, method="sample", n_gates=200, random_state=7)
    b = dualnet.activation_patterns(X, method="sample", n_gates=200, random_state=8)
    assert digest(a) != digest(b)


# Interrupts. The long jobs below would run for many minutes (a solve that cannot reach its
# tolerance, a sampler drawing millions of gates); each test shows they end on SIGINT.


def _long_solve_inputs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    y = rng.standard_normal(300)
    patterns = dualnet.activation_patterns(X, method="sample", n_gates=2000, random_state=0)
    return X, y, patterns.pattern_set


def _long_solve(X, y, pattern_set):
    # tol below any reachable relative gap and an unbounded iteration budget: runs until stopped.
    return _core.solve_convex(X, y, pattern_set, 1e-6, relu=True, tol=1e-300, max_iter=2**62)


def _interrupt_main_soon(delay=0.5):
    timer = threading.Timer(delay, _thread.interrupt_main)
    timer.start()
    return timer


def test_keyboard_interrupt_stops_a_solve_in_process():
    X, y, pattern_set = _long_solve_inputs()
    timer = _interrupt_main_soon()
    try:
        with pytest.raises(KeyboardInterrupt):
            _long_solve(X, y, pattern_set)
    finally:
        timer.cancel()
    # The interpreter and the core still work, with the same answers as before.
    small = _core.solve_convex(X[:40], y[:40], dualnet.activation_patterns(
        X[:40], method="sample", n_gates=50, random_state=0).pattern_set, 0.1, relu=False)
    assert small.converged


def test_keyboard_interrupt_stops_sampling_in_process():
    X = np.random.default_rng(1).standard_normal((500, 10))
    timer = _interrupt_main_soon()
    try:
        with pytest.raises(KeyboardInterrupt):
            _core.sample_patterns(X, 10**9, 0)
    finally:
        timer.cancel()
    assert len(_core.sample_patterns(X[:20], 100, 0)[0]) > 0


_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import dualnet
    from dualnet import _core

    X = np.random.default_rng(0).standard_normal({shape})
    y = np.random.default_rng(1).standard_normal(X.shape[0])
    job = sys.argv[1]
    print("started", flush=True)
    try:
        if job == "fit_relu":
            dualnet.fit_relu(X, y, 1e-6, tol=1e-300, max_iter=2**62, random_state=0)
        else:
            dualnet.activation_patterns(X, method="sample", n_gates=5 * 10**6, random_state=0)
        print("completed", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    small = dualnet.fit_relu(X[:20, :2], y[:20], 1.0, random_state=0)
    print("recovered" if small.converged else "broken", flush=True)
    """
)


def _sigint_child(code, *args):
    """Run code in a subprocess, send SIGINT 2 s after it prints "started"; (returncode, out,
    err)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in proc.stdout:  # an editable install may first report its rebuild
            if line.strip() == "started":
                break
        else:
            raise AssertionError(proc.stderr.read())
        # Give the job time to reach the core (argument checks, pattern enumeration) first.
        threading.Event().wait(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


@pytest.mark.parametrize("job, shape", [("fit_relu", "(200, 6)"), ("sample", "(1000, 10)")])
def test_sigint_stops_a_long_job_in_a_subprocess(job, shape):
    returncode, out, err = _sigint_child(_CHILD.format(shape=shape), job)
    assert returncode == 0, err
    assert out.split() == ["interrupted", "recovered"], (out, err)


# Shutdown with solves still running. A daemon thread inside the core when the interpreter exits
# must not take the process down: taking the GIL back in a destructor there used to end in
# std::terminate ("terminate called without an active exception") once CPython ends the thread.

# A problem whose all-blocks pass runs on several threads (40000 rows: ten row tasks).
_THREADED_PROBLEM = textwrap.dedent(
    """
    import numpy as np
    import dualnet
    from dualnet import _core

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40000, 8))
    y = rng.standard_normal(X.shape[0])
    pattern_set = dualnet.activation_patterns(X, method="sample", n_gates=128,
                                              random_state=0).pattern_set
    """
)

_DAEMON_CHILD = _THREADED_PROBLEM + textwrap.dedent(
    """
    import threading
    busy = threading.Barrier(3)

    def solve():
        busy.wait()
        _core.solve_convex(X, y, pattern_set, 1e-6, relu=False, tol=1e-300, max_iter=2**62,
                           n_threads=2)

    def passes():
        busy.wait()
        while True:  # the multi-threaded all-blocks pass, over and over
            _core.block_gradients(X, pattern_set, y, n_threads=2)

    for target in (solve, passes):
        threading.Thread(target=target, daemon=True).start()
    busy.wait()
    threading.Event().wait(1.0)
    print("exiting", flush=True)
    """
)


def test_interpreter_exits_cleanly_while_daemon_threads_are_in_the_core():
    proc = subprocess.run([sys.executable, "-c", _DAEMON_CHILD], capture_output=True, text=True,
                          timeout=HANG_GUARD)
    assert proc.returncode == 0, proc.stderr
    assert "exiting" in proc.stdout
    assert "terminate" not in proc.stderr, proc.stderr


_THREADED_CHILD = _THREADED_PROBLEM + textwrap.dedent(
    """
    print("started", flush=True)
    try:
        while True:  # solves whose certificates run the two-thread pass, until stopped
            _core.solve_convex(X, y, pattern_set, 1e-6, relu=False, tol=1e-300, max_iter=50,
                               n_threads=2)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    small = _core.block_gradients(X[:5000], dualnet.activation_patterns(
        X[:5000], method="sample", n_gates=16, random_state=0).pattern_set, y[:5000], n_threads=2)
    print("recovered" if np.isfinite(small).all() else "broken", flush=True)
    """
)


def test_sigint_during_threaded_solves_exits_cleanly():
    returncode, out, err = _sigint_child(_THREADED_CHILD)
    assert returncode == 0, err
    assert out.split() == ["interrupted", "recovered"], (out, err)
    assert "terminate" not in err, err
