"""Shared pieces of the command-line interface: data loading, progress display, output files."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["UsageError", "Dataset", "Progress", "load_data", "pattern_report", "priced_report",
           "write_json"]


class UsageError(Exception):
    """A mistake in the command line or its files: printed as one line, no traceback."""


@dataclass(frozen=True)
class Dataset:
    """Data for a command: X (n, d), y (n,), and where they came from."""

    X: np.ndarray
    y: np.ndarray
    source: str
    columns: tuple
    target: str


def _standardize(X, y):
    X = X - X.mean(axis=0)
    scale = X.std(axis=0)
    X = X / np.where(scale > 0, scale, 1.0)
    y = y - y.mean()
    return X, y / (y.std() or 1.0)


def default_data() -> Dataset:
    """scikit-learn's bundled diabetes data (442 x 10), features and target standardised."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    X, y = _standardize(np.asarray(bunch.data, dtype=np.float64),
                        np.asarray(bunch.target, dtype=np.float64))
    return Dataset(X, y, "diabetes (scikit-learn, standardised)", tuple(bunch.feature_names),
                   "target")


def _read_csv(path, target):
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text CSV file") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise UsageError(f"{path} is empty")
    header = [cell.strip() for cell in rows[0]]
    if len(header) < 2:
        raise UsageError(f"{path} needs a header and at least two columns (features and a target)")
    if len(rows) < 2:
        raise UsageError(f"{path} has a header but no data rows")
    if target is None:
        target = header[-1]
    if target not in header:
        raise UsageError(
            f"--target {target!r} is not a column of {path} (columns: {', '.join(header)})"
        )
    values = np.empty((len(rows) - 1, len(header)))
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UsageError(
                f"{path} line {line} has {len(row)} fields but the header has {len(header)}"
            )
        for column, cell in enumerate(row):
            try:
                values[line - 2, column] = float(cell)
            except ValueError:
                raise UsageError(
                    f"{path} line {line}, column {header[column]!r}: {cell.strip()!r} is not a "
                    "number"
                ) from None
    if not np.all(np.isfinite(values)):
        raise UsageError(f"{path} contains NaN or infinite values")
    index = header.index(target)
    features = [name for name in header if name != target]
    return np.delete(values, index, axis=1), values[:, index], tuple(features), target


def _read_npz(path):
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a readable .npz file ({exc})") from None
    with data:
        missing = [key for key in ("X", "y") if key not in data.files]
        if missing:
            raise UsageError(
                f"{path} needs arrays named X and y; it has {', '.join(data.files) or 'none'}"
            )
        X, y = data["X"], data["y"]
    if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise UsageError(f"{path}: X and y must be numeric, got {X.dtype} and {y.dtype}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise UsageError(
            f"{path}: X must be (n, d) and y (n,), got shapes {X.shape} and {y.shape}"
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise UsageError(f"{path} contains NaN or infinite values")
    return X, y, tuple(f"x{j}" for j in range(X.shape[1])), "y"


def load_data(path=None, *, target=None, standardize=False) -> Dataset:
    """Read DATA: None for the embedded default, a CSV with a header, or an .npz with X and y."""
    if path is None:
        if target is not None:
            raise UsageError("--target needs a DATA file (the embedded data has one target)")
        return default_data()
    if not os.path.exists(path):
        raise UsageError(f"no such file: {path}")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory, not a data file")
    if path.endswith(".npz"):
        if target is not None:
            raise UsageError("--target applies to CSV files; an .npz file holds X and y")
        X, y, columns, target = _read_npz(path)
    else:
        X, y, columns, target = _read_csv(path, target)
    if X.shape[0] < 2:
        raise UsageError(f"{path} has {X.shape[0]} row; at least two are needed")
    if standardize:
        X, y = _standardize(X, y)
    suffix = ", standardised" if standardize else ""
    return Dataset(X, y, f"{path}{suffix}", columns, target)


def _cover_bound(X, bias) -> int:
    """Cover's count of the arrangement of the rows of X (or [X, 1]): at most that many cells."""
    from .. import _core
    from ..patterns import _cover_count

    Xa = np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X
    m, r = _core.arrangement_size(np.ascontiguousarray(Xa))
    return _cover_count(int(m), int(r))


def pattern_report(patterns, X, bias) -> dict:
    """How much of the activation-pattern set ``patterns`` covers (for printing and JSON)."""
    report = {"method": patterns.method, "n_patterns": len(patterns), "exact": bool(patterns.exact)}
    if patterns.exact:
        report["total"] = len(patterns)
        report["coverage"] = 1.0
        report["text"] = (f"exact: all {len(patterns)} activation patterns (complete set; the "
                          "certificate is global)")
        return report
    bound = _cover_bound(X, bias)
    report["n_gates"] = int(patterns.n_draws)
    report["total_at_most"] = float(bound) if bound > 2**53 else int(bound)
    report["coverage_at_least"] = len(patterns) / bound
    report["text"] = (
        f"sampled: {len(patterns)} distinct patterns from {patterns.n_draws} random gates, of at "
        f"most {_human(bound)} (Cover's count), coverage >= {len(patterns) / bound:.3g}; the "
        "certificate holds relative to these patterns"
    )
    return report


_STOPS = {
    "no_violation": "when no violated pattern was found",
    "near_only": "when every violated pattern found lay a few rows from one in the set",
    "gap": "on a small estimated gap to the full program",
    "stalled": "when the objective stalled",
    "max_time": "on its time budget",
    "max_rounds": "on its round budget",
}


def priced_report(fit, X, bias) -> dict:
    """The pattern set of a fit whose set was grown by pricing (``fit_relu(patterns="auto")``):
    the exact report when the set is complete, else what column generation did."""
    pricing = fit.pricing
    if pricing is None or fit.patterns.exact:
        return pattern_report(fit.patterns, X, bias)
    bound = _cover_bound(X, bias)
    report = {"method": "pricing", "n_patterns": len(fit.patterns), "exact": False,
              "total_at_most": float(bound) if bound > 2**53 else int(bound),
              "coverage_at_least": len(fit.patterns) / bound}
    report.update(rounds=int(pricing.n_rounds), added=int(pricing.n_added),
                  dropped=int(pricing.n_dropped), thinned=int(pricing.n_thinned),
                  cells_evaluated=int(pricing.n_evaluated),
                  max_violation=float(pricing.max_violation), stop=pricing.stop)
    found = ("the last search found no violated dual constraint" if pricing.max_violation == 0
             else f"largest violation left {pricing.max_violation:.2g} (relative)")
    stop = _STOPS.get(pricing.stop, pricing.stop)
    report["text"] = (
        f"priced: {len(fit.patterns)} patterns after {pricing.n_rounds} rounds of column "
        f"generation ({pricing.n_added} added, {pricing.n_evaluated} cells searched, stopped "
        f"{stop}; {found}), of at most {_human(bound)}; the certificate holds relative to "
        "these patterns"
    )
    return report


def _human(count) -> str:
    return str(count) if count < 10**7 else f"{float(count):.3g}"


def write_json(path, payload) -> None:
    """Write ``payload`` as indented JSON (numpy numbers converted)."""

    def default(value):
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        raise TypeError(f"cannot store {type(value).__name__} in JSON")

    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2, default=default, allow_nan=True)
        handle.write("\n")


def output_paths(out) -> tuple[str, str]:
    """MODEL -> (MODEL.npz, MODEL.json); an explicit .npz or .json suffix is dropped first."""
    stem, ext = os.path.splitext(out)
    if ext not in (".npz", ".json"):
        stem = out
    directory = os.path.dirname(stem)
    if directory and not os.path.isdir(directory):
        raise UsageError(f"--out: no such directory: {directory}")
    return stem + ".npz", stem + ".json"


class Progress:
    """Shows that work is going on: a spinner with elapsed time on a terminal, else a line per
    stage. Use as a context manager around one stage; ``quiet`` silences it."""

    _FRAMES = "|/-\\"

    def __init__(self, label, *, stream=None, quiet=False):
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.quiet = quiet
        self._stop = threading.Event()
        self._thread = None
        self.elapsed = 0.0

    def _spin(self):
        frame = 0
        while not self._stop.wait(0.1):
            frame += 1
            self.stream.write(f"\r{self.label} {self._FRAMES[frame % 4]} "
                              f"{time.perf_counter() - self._start:6.1f} s")
            self.stream.flush()

    def __enter__(self):
        self._start = time.perf_counter()
        if self.quiet:
            return self
        if self.stream.isatty():
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        else:
            self.stream.write(f"{self.label} ...\n")
            self.stream.flush()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self._start
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r" + " " * (len(self.label) + 12) + "\r")
            self.stream.flush()
        return False


def bar(done, total, width=30) -> str:
    """A text progress bar, e.g. [#######-------] 2/5."""
    filled = int(round(width * done / max(total, 1)))
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def positive_float(text) -> float:
    """argparse type: a finite real number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def positive_int(text) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def add_data_arguments(parser) -> None:
    """DATA, --target and --standardize (fit, certify, patterns)."""
    parser.add_argument("data", nargs="?", metavar="DATA",
                        help="CSV file with a header row, or .npz with arrays X and y (default: "
                        "scikit-learn's diabetes data, standardised)")
    parser.add_argument("--target", metavar="COL",
                        help="target column of a CSV file (default: the last column)")
    parser.add_argument("--standardize", action="store_true",
                        help="centre and scale every column of DATA to unit variance")


def add_pattern_arguments(parser, *, pricing=False) -> None:
    """--patterns, --n-patterns and --seed (fit, certify, patterns); with ``pricing`` (fit),
    ``auto`` grows the set by pricing where the exact set is unaffordable."""
    auto = ("enumerate when affordable, else grow the set from a seed by pricing the dual "
            "constraint (column generation)" if pricing else "enumerate when affordable")
    parser.add_argument("--patterns", choices=("auto", "exact", "sample"), default="auto",
                        help=f"enumerate every activation pattern, sample them, or {auto} "
                        "(default auto); a sampled or priced set gives a certificate relative "
                        "to it")
    parser.add_argument("--n-patterns", type=positive_int, metavar="N",
                        help="random gates drawn when sampling (default 1000"
                        + (", or 100 for the seed of pricing)" if pricing else ")"))
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the pattern sampler" + (" and of pricing" if pricing else ""))
