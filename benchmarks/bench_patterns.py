"""Activation patterns: exact enumeration speed, and the sampler against a numpy reference.

Run from the repository root (after `pip install .`):

    python benchmarks/bench_patterns.py            # full grid
    python benchmarks/bench_patterns.py --quick    # a smaller grid

Prints two tables measured in one run, each time the median of --repeat runs:
  1. exact enumeration (`method="exact"`): cells, seconds, cells per second, over a grid of (n, d)
     of Gaussian data plus iris (ties and repeated rows);
  2. sampling at equal numbers of draws: distinct patterns per second of
     `activation_patterns(method="sample")` against the numpy reference
     `np.unique(X @ G >= 0, axis=1)` with Gaussian G, and their ratio.
Both wall-clock and CPU (process) time are reported: on a shared machine the wall clock measures
the load, and numpy's BLAS may use several threads, whose CPU time counts in full.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import dualnet


def _timed(fn, repeat):
    """(result, median wall seconds, median CPU seconds)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return result, statistics.median(walls), statistics.median(cpus)


def _iris():
    from sklearn.datasets import load_iris

    return load_iris().data


def bench_exact(grid, repeat):
    print("Exact enumeration, method='exact' (median of %d runs)" % repeat)
    print(f"{'data':>14} {'n':>6} {'d':>3} {'cells':>10} {'wall s':>8} {'cpu s':>8} {'cells/s (cpu)':>14}")
    for name, X in grid:
        n, d = X.shape
        cover = dualnet.patterns._cover_count(n, min(n, d))
        patterns, wall, cpu = _timed(
            lambda: dualnet.activation_patterns(X, method="exact", max_patterns=max(cover, 10)), repeat
        )
        cells = len(patterns)
        print(f"{name:>14} {n:>6} {d:>3} {cells:>10} {wall:>8.3f} {cpu:>8.3f} {cells / cpu:>14.3g}")


def _numpy_reference(X, draws, rng):
    G = rng.standard_normal((X.shape[1], draws))
    return np.unique(X @ G >= 0, axis=1).shape[1]


def bench_sampling(grid, repeat):
    print()
    print("Sampling at equal draws: dualnet method='sample' vs numpy np.unique(X @ G >= 0, axis=1)")
    print(
        f"{'n':>6} {'d':>3} {'draws':>7} {'exact':>9} {'dualnet':>8} {'numpy':>8} "
        f"{'dn cpu s':>9} {'np cpu s':>9} {'ratio cpu':>9} {'ratio wall':>10}"
    )
    rng = np.random.default_rng(0)
    for n, d, draws in grid:
        X = rng.standard_normal((n, d))
        exact = dualnet.patterns._cover_count(n, min(n, d))  # Gaussian rows: general position
        ours, w_ours, c_ours = _timed(
            lambda: len(dualnet.activation_patterns(X, method="sample", n_gates=draws, random_state=1)),
            repeat,
        )
        ref, w_ref, c_ref = _timed(lambda: _numpy_reference(X, draws, np.random.default_rng(1)), repeat)
        ratio_cpu = (ours / c_ours) / (ref / c_ref)
        ratio_wall = (ours / w_ours) / (ref / w_ref)
        exact_text = f"{exact:.3g}" if exact >= 10**7 else str(exact)
        print(
            f"{n:>6} {d:>3} {draws:>7} {exact_text:>9} {ours:>8} {ref:>8} "
            f"{c_ours:>9.3f} {c_ref:>9.3f} {ratio_cpu:>9.1f} {ratio_wall:>10.1f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    shapes = [(10000, 2), (100, 3), (317, 3), (1000, 3), (100, 4), (50, 5), (30, 7)]
    if args.quick:
        shapes = [(1000, 2), (100, 3), (317, 3), (50, 5)]
    grid = [("gaussian", rng.standard_normal(shape)) for shape in shapes]
    iris = _iris()
    grid.append(("iris[:, :3] c", np.ascontiguousarray(iris[:, :3] - iris[:, :3].mean(axis=0))))
    if not args.quick:
        grid.append(("iris", iris))
    bench_exact(grid, args.repeat)

    sample_grid = [(100, 3, 10**4), (100, 3, 10**5), (200, 3, 10**5), (50, 4, 10**5), (100, 4, 10**5),
                   (60, 5, 10**5), (1000, 10, 10**5), (5000, 20, 2 * 10**4)]
    if args.quick:
        sample_grid = [(100, 3, 10**4), (60, 5, 10**4), (1000, 10, 10**4)]
    bench_sampling(sample_grid, args.repeat)
    print()
    print(f"dualnet {dualnet.__version__}, numpy {np.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
