"""Small fixed jobs covering every entry point that computes, and a bit-exact digest of their
results: tests/test_concurrency.py runs them serially, from threads and in fresh processes and
compares digests. Run as a script it prints one ``name digest`` line per job.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys

import numpy as np

import dualnet
from dualnet import _core


def _data(seed, n, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    return X, y


def _update(h, obj):
    """Feed a canonical, bit-exact serialization of obj to the hash h."""
    if isinstance(obj, np.ndarray):
        h.update(f"array{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, (bool, np.bool_, int, np.integer, str, type(None))):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, (float, np.floating)):
        h.update(f"float:{float(obj).hex()};".encode())
    elif isinstance(obj, (tuple, list)):
        h.update(f"seq{len(obj)}[".encode())
        for item in obj:
            _update(h, item)
        h.update(b"]")
    elif isinstance(obj, dualnet.Patterns):
        _update(h, (obj.masks, obj.gates, obj.exact, obj.bias, obj.method, obj.n_draws,
                    obj.exact_count))
    elif isinstance(obj, _core.PatternSet):
        _update(h, (obj.masks(), obj.gates()))
    elif isinstance(obj, _core.ConvexSolution):
        _update(h, (obj.v, obj.w, obj.primal_objective, obj.dual_objective, obj.duality_gap,
                    obj.relative_gap, obj.converged, obj.n_iter, obj.dual, obj.status,
                    obj.max_cone_violation, obj.n_active))
    elif dataclasses.is_dataclass(obj):
        for field in dataclasses.fields(obj):
            if field.name in _TIMING_FIELDS:
                continue
            h.update(field.name.encode())
            _update(h, getattr(obj, field.name))
    else:
        raise TypeError(f"no digest for {type(obj).__name__}")


# Wall-clock measurements reported beside the results; everything else must be reproducible.
_TIMING_FIELDS = frozenset({"seconds"})


def digest(obj) -> str:
    h = hashlib.sha256()
    _update(h, obj)
    return h.hexdigest()


def _patterns_exact():
    X, _ = _data(1, 40, 3)
    return dualnet.activation_patterns(X, bias=True, method="exact")


def _patterns_sampled():
    X, _ = _data(2, 60, 6)
    return dualnet.activation_patterns(X, method="sample", n_gates=3000, random_state=7)


def _count():
    X, _ = _data(3, 30, 4)
    return dualnet.count_patterns(X), dualnet.count_patterns(X, bias=True)


def _fit(model):
    def job():
        X, y = _data(4, 20, 2)  # a size where both programs converge (no ConvergenceWarning)
        return dualnet.fit_relu(X, y, 0.5, model=model, random_state=0)
    return job


def _path():
    X, y = _data(5, 20, 2)
    return dualnet.fit_relu_path(X, y, [1.0, 0.5, 0.2], random_state=1)


def _beta_max():
    X, y = _data(6, 30, 3)
    return dualnet.beta_max(X, y, random_state=2), dualnet.beta_max(X, y, model="gated",
                                                                     random_state=2)


def _solve_core():
    X, y = _data(7, 30, 3)
    patterns = dualnet.activation_patterns(X, method="sample", n_gates=100, random_state=3)
    return _core.solve_convex(X, y, patterns.pattern_set, 0.5, relu=True, max_iter=2000)


def _toolkit():
    X, y = _data(8, 20, 5)
    Q, _ = np.linalg.qr(np.random.default_rng(9).standard_normal((8, 4)))
    c = np.random.default_rng(10).standard_normal(12)
    return (dualnet.deep_linear(X, y, 0.3, depth=3),
            dualnet.whitened_relu(Q.T, y[:4], 0.1),
            dualnet.rank_one_relu(np.outer(c, [1.0, -2.0]), y[:12], 0.2))


JOBS = {
    "activation_patterns_exact": _patterns_exact,
    "activation_patterns_sampled": _patterns_sampled,
    "count_patterns": _count,
    "fit_relu_relu": _fit("relu"),
    "fit_relu_gated": _fit("gated"),
    "fit_relu_path": _path,
    "beta_max": _beta_max,
    "solve_convex": _solve_core,
    "toolkit": _toolkit,
}


def main(names) -> None:
    for name in names or JOBS:
        print(name, digest(JOBS[name]()))


if __name__ == "__main__":
    main(sys.argv[1:])
