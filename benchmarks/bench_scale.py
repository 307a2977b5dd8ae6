"""Scale benchmark: large-n solves, the all-blocks gradient pass, memory, threads and batches.

Prints, from one run:

1. the all-blocks gradient pass X^T D_i r (dualnet's cache-blocked pass over the bitsets) against
   numpy: the full-gradient pass ``X.T @ (masks * r[:, None])`` and a plain matrix product of the
   same flop count (2 n g P), both single-threaded and with the default threads; dualnet's pass
   with 1 and 2 threads;
2. time to certified relative gap 1e-4 and 1e-6 for the gated and the ReLU program, in seconds and
   in units of one numpy full-gradient pass (single-threaded) and of one dualnet pass;
3. peak memory of a solve against the size of X plus the bitsets;
4. batch throughput (solves per second) serial, in threads and on a Dask LocalCluster.

Each solve and memory probe runs in a fresh subprocess (a solve that exceeds ``--solve-timeout``
is reported as such; the memory probes, one per model, read the kernel's peak resident set size
after resetting it right before the solve, against a baseline taken after a warm-up solve on a
small problem, so that code loaded on first use is not counted as the solve's memory). The
machine may be shared: medians are reported and the load average is printed before and after.

Problem: X with i.i.d. N(0, 1) entries (n, d); y the output of a random two-layer ReLU network
with 5 neurons plus Gaussian noise of 10% of its standard deviation; P patterns from the Gaussian
gates of ``dualnet.activation_patterns(method="sample", n_gates=P, random_state=0)``;
beta = 0.05 beta_max (gated program's beta_max for both programs); no bias.

Usage::

    python benchmarks/bench_scale.py --sizes 100000 --solve-timeout 400
    python benchmarks/bench_scale.py --sizes 1000000 --models gated --tols 1e-4 --no-batch
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np


def make_problem(n, d, p, seed=0):
    import dualnet

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    hidden = rng.standard_normal((d, 5))
    y = np.maximum(X @ hidden, 0) @ rng.standard_normal(5)
    y += 0.1 * y.std() * rng.standard_normal(n)
    patterns = dualnet.activation_patterns(X, method="sample", n_gates=p, random_state=0)
    return X, y, patterns


def _rss_status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return -1


def _release_free_memory():
    # glibc keeps freed heap pages mapped; return them so that the RSS before the solve is what
    # the process holds (X, y, the patterns), not the problem generator's freed temporaries.
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss():
    # Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) to the current.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(spec):
    """One solve in this process; prints a JSON line."""
    import dualnet

    # Warm-up on a small problem: the code paths of generation, sampling and the solve are loaded
    # (a few MiB of pages that do not grow with n) before the baseline is read.
    X, y, patterns = make_problem(2000, spec["d"], spec["p"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dualnet.fit_relu(X, y, 1.0, patterns=patterns, model=spec["model"], max_iter=50)
    del X, y, patterns
    _release_free_memory()
    rss_start = _rss_status("VmRSS")
    X, y, patterns = make_problem(spec["n"], spec["d"], spec["p"])
    beta = 0.05 * dualnet.beta_max(X, y, patterns=patterns, model="gated")
    data_bytes = X.nbytes + patterns.pattern_set.memory_bytes
    _release_free_memory()
    reset = _reset_peak_rss()
    rss_before = _rss_status("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # capped memory probes stop on max_iter by design
        fit = dualnet.fit_relu(X, y, beta, patterns=patterns, model=spec["model"], tol=spec["tol"],
                               max_iter=spec.get("max_iter"), n_threads=spec.get("n_threads"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({
        "wall": wall, "cpu": cpu, "relative_gap": fit.relative_gap, "converged": fit.converged,
        "n_iter": fit.n_iter, "peak_rss": _rss_status("VmHWM") if reset else -1,
        "rss_start": rss_start, "rss_before": rss_before, "data_bytes": data_bytes,
        "x_bytes": X.nbytes, "bitset_bytes": patterns.pattern_set.memory_bytes,
    }))


def run_worker(spec, timeout):
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                             capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(exc.stderr) from None
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_time(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def chunked(f, n, rows=65536):
    """Sum f(rows slice) over row chunks (numpy's dense temporaries stay bounded at large n)."""
    total = None
    for start in range(0, n, rows):
        part = f(slice(start, min(n, start + rows)))
        total = part if total is None else total + part
    return total


def bench_passes(n, d, p, repeats):
    from threadpoolctl import threadpool_limits

    from dualnet import _core

    X, y, patterns = make_problem(n, d, p)
    masks = patterns.masks
    dense = masks.astype(np.float64) if n * p <= 5e7 else None
    r = np.random.default_rng(1).standard_normal(n)
    g, P = X.shape[1], len(patterns)
    flops = 2.0 * n * g * P

    def numpy_pass():
        return chunked(lambda rows: X[rows].T @ (masks[rows] * r[rows, None]), n)

    def numpy_matmul():
        if dense is not None:
            return X.T @ dense
        return chunked(lambda rows: X[rows].T @ masks[rows].astype(np.float64), n)

    out = {"n": n, "d": d, "P": P, "flops": flops}
    reference = numpy_pass()
    got = _core.block_gradients(X, patterns.pattern_set, r)
    out["max_relative_diff_vs_numpy"] = float(np.abs(got - reference).max() /
                                              np.abs(reference).max())
    for threads in (1, 2):
        out[f"dualnet_pass_{threads}t"] = median_time(
            lambda: _core.block_gradients(X, patterns.pattern_set, r, n_threads=threads), repeats)
    with threadpool_limits(1):
        out["numpy_pass_1t"] = median_time(numpy_pass, repeats)
        out["numpy_matmul_1t"] = median_time(numpy_matmul, repeats)
    out["numpy_pass_default"] = median_time(numpy_pass, repeats)
    out["numpy_matmul_default"] = median_time(numpy_matmul, repeats)
    return out


def bench_batch(n_problems, n, d, p, cluster):
    import dualnet

    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, d))
    patterns = dualnet.activation_patterns(X, method="sample", n_gates=p, random_state=0)
    Y = np.maximum(X @ rng.standard_normal((d, n_problems)), 0)
    Y += 0.1 * rng.standard_normal(Y.shape)
    betas = [0.05 * dualnet.beta_max(X, Y[:, k], patterns=patterns, model="gated")
             for k in range(n_problems)]
    problems = [{"X": X, "y": Y[:, k], "beta": betas[k], "patterns": patterns}
                for k in range(n_problems)]
    out = {"n_problems": n_problems, "n": n, "d": d, "P": len(patterns)}
    t = time.perf_counter()
    serial = dualnet.fit_relu_batch(problems, model="gated", n_threads=1)
    out["serial"] = n_problems / (time.perf_counter() - t)
    t = time.perf_counter()
    threaded = dualnet.fit_relu_batch(problems, model="gated", n_jobs=2, n_threads=1)
    out["threads_2"] = n_problems / (time.perf_counter() - t)
    out["threads_identical"] = all(np.array_equal(a.v, b.v) for a, b in zip(serial, threaded))
    if cluster:
        import distributed
        import joblib

        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                      host="127.0.0.1", protocol="tcp",
                                      dashboard_address=None) as c, \
                distributed.Client(c):
            with joblib.parallel_backend("dask"):
                dualnet.fit_relu_batch(problems[:2], model="gated")  # warm-up: ship the code
                t = time.perf_counter()
                on_dask = dualnet.fit_relu_batch(problems, model="gated", n_threads=1)
                out["dask_local_cluster_2_workers"] = n_problems / (time.perf_counter() - t)
        out["dask_identical"] = all(np.array_equal(a.v, b.v) for a, b in zip(serial, on_dask))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--patterns", type=int, default=256)
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-4, 1e-6])
    parser.add_argument("--models", nargs="+", default=["gated", "relu"])
    parser.add_argument("--solve-timeout", type=float, default=600)
    parser.add_argument("--memory-probe-iter", type=int, default=30,
                        help="epochs of the capped solve whose peak memory is measured")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16, help="problems in the batch benchmark")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-batch", action="store_true")
    parser.add_argument("--skip-solves", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return

    print(f"load average at start: {os.getloadavg()}  cores: {os.cpu_count()}")
    report = {"passes": [], "solves": [], "memory": [], "batch": None}
    for n in args.sizes:
        passes = bench_passes(n, args.d, args.patterns, args.repeats)
        report["passes"].append(passes)
        t_np = passes["numpy_pass_1t"]
        t_dn = passes["dualnet_pass_1t"]
        print(f"\n== n={n} d={args.d} P={passes['P']}: all-blocks gradient pass "
              f"({passes['flops'] / 1e9:.2f} GFLOP; max |dualnet - numpy| / max |numpy| "
              f"{passes['max_relative_diff_vs_numpy']:.1e})")
        for key in ("dualnet_pass_1t", "dualnet_pass_2t", "numpy_pass_1t", "numpy_matmul_1t",
                    "numpy_pass_default", "numpy_matmul_default"):
            print(f"  {key:24s} {passes[key]:9.4f} s  {passes['flops'] / passes[key] / 1e9:7.2f} "
                  "GFLOP/s")
        print(f"  throughput ratio dualnet 1 thread / numpy matmul 1 thread: "
              f"{passes['numpy_matmul_1t'] / t_dn:.2f}")
        print(f"  throughput ratio dualnet 2 threads / numpy matmul default threads: "
              f"{passes['numpy_matmul_default'] / passes['dualnet_pass_2t']:.2f}")
        print(f"  speed-up of 2 threads over 1 (dualnet pass): "
              f"{t_dn / passes['dualnet_pass_2t']:.2f}")

        for model in args.models:
            spec = {"n": n, "d": args.d, "p": args.patterns, "model": model, "tol": 1e-12,
                    "max_iter": args.memory_probe_iter}
            probe = run_worker(spec, args.solve_timeout)
            if probe is None:
                print(f"  memory probe ({model}) timed out")
                continue
            probe["n"] = n
            probe["model"] = model
            report["memory"].append(probe)
            used = probe["peak_rss"] - probe["rss_start"]
            extra = probe["peak_rss"] - probe["rss_before"]
            print(f"  peak memory of a {model} solve ({args.memory_probe_iter} epochs): "
                  f"{used / 2**20:.1f} MiB above the warmed-up process (X, y, patterns and "
                  f"the solve), X + bitsets {probe['data_bytes'] / 2**20:.1f} MiB: ratio "
                  f"{used / probe['data_bytes']:.2f}; the solve itself added "
                  f"{extra / 2**20:.1f} MiB (peak RSS {probe['peak_rss'] / 2**20:.1f} MiB, "
                  f"baseline {probe['rss_start'] / 2**20:.1f} MiB)")
        if args.skip_solves:
            continue
        for model in args.models:
            for tol in args.tols:
                # One-thread solve for comparison: the first gated solve of the smallest size.
                first = model == "gated" and tol == args.tols[0] and n == min(args.sizes)
                threads = [None, 1] if first else [None]
                for n_threads in threads:
                    spec = {"n": n, "d": args.d, "p": args.patterns, "model": model, "tol": tol,
                            "n_threads": n_threads}
                    result = run_worker(spec, args.solve_timeout)
                    row = {"n": n, "model": model, "tol": tol, "n_threads": n_threads,
                           "result": result}
                    report["solves"].append(row)
                    label = f"  {model:5s} tol={tol:.0e} threads={n_threads or 'all'}"
                    if result is None:
                        print(f"{label}: no result within {args.solve_timeout:.0f} s")
                        continue
                    print(f"{label}: {result['wall']:8.2f} s wall, {result['cpu']:8.2f} s CPU, "
                          f"gap {result['relative_gap']:.2e}, {result['n_iter']} epochs; "
                          f"= {result['wall'] / t_np:.1f} numpy passes, "
                          f"{result['wall'] / t_dn:.0f} dualnet passes (wall); peak memory "
                          f"{(result['peak_rss'] - result['rss_start']) / result['data_bytes']:.2f}"
                          " x (X + bitsets)")
    if args.no_batch:
        print(f"\nload average at end: {os.getloadavg()}")
        print("JSON " + json.dumps(report))
        return
    report["batch"] = bench_batch(args.batch, 3000, 10, 64, not args.no_dask)
    b = report["batch"]
    print(f"\n== batch of {b['n_problems']} gated solves (n={b['n']}, d={b['d']}, P={b['P']}): "
          f"solves/s serial {b['serial']:.2f}, 2 threads {b['threads_2']:.2f} "
          f"(identical: {b['threads_identical']})"
          + (f", Dask LocalCluster (2 workers) {b['dask_local_cluster_2_workers']:.2f} "
             f"(identical: {b['dask_identical']})" if "dask_identical" in b else ""))
    print(f"\nload average at end: {os.getloadavg()}")
    print("JSON " + json.dumps(report))


if __name__ == "__main__":
    main()
