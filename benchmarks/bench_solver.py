"""Convex two-layer ReLU solvers side by side: dualnet, cvxpy + Clarabel, scnn and adelie.

Every library solves the same problems (same X, y, beta and sampled patterns, from
``problems.make_problem``), and every returned solution is scored by the same code
(``problems.certify``): its primal objective and the certified relative duality gap of a dual point
built from its residual. Nothing a library reports about itself enters the table.

Programs: ``gated`` (group lasso over the blocks D_i X) with dualnet, cvxpy + Clarabel, scnn's R-FISTA
and adelie (group lasso on the expanded design [D_1 X, ..., D_P X], given to adelie as its own
``matrix.convex_relu`` operator); ``relu`` (the exact program with cone constraints) with dualnet,
cvxpy + Clarabel and scnn's augmented Lagrangian.

Each solve runs in a child process with a wall-time cap, so a library that is too slow or too large
is reported as "timeout" instead of stalling the run; a library missing from the environment is
reported as "skipped (reason)". adelie needs numpy < 2 and so its own Python environment, given by
``--adelie-python`` (or the environment variable DUALNET_BENCH_ADELIE_PYTHON). See README.md.

Run ``python benchmarks/bench_solver.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from problems import Problem, certify, cone_violation, load_problem, make_problem, save_problem  # noqa: E402

DEFAULT_SIZES = "200x10x50,2000x20x100,20000x20x200,100000x20x200"

# (library, settings label, options) per program. "default" runs a library as shipped; "tight"
# asks it for the accuracy dualnet certifies, so times are compared at comparable gaps.
VARIANTS = {
    "gated": [
        ("dualnet", "tol=1e-6", {"tol": 1e-6}),
        ("clarabel", "default", {}),
        ("scnn", "default", {}),
        ("scnn", "tol=1e-10", {"tol": 1e-10, "max_iters": 100_000}),
        ("adelie", "default", {}),
        ("adelie", "tol=1e-12", {"tol": 1e-12}),
        # dualnet stopped at the gaps the peers' defaults reach (1e-2: about adelie's default,
        # 1e-4: adelie's tol=1e-12 and scnn's), for comparisons at equal certified gap.
        ("dualnet", "tol=1e-2", {"tol": 1e-2}),
        ("dualnet", "tol=1e-4", {"tol": 1e-4}),
    ],
    "relu": [
        ("dualnet", "tol=1e-6", {"tol": 1e-6}),
        ("clarabel", "default", {}),
        ("scnn", "default", {}),
        ("scnn", "tol=1e-10", {"tol": 1e-10, "constraint_tol": 1e-10}),
    ],
}


# ---------------------------------------------------------------------------------------------
# Library adapters (run inside the child process). Each returns (v, w, info) with blocks of shape
# (d, P) in the problem's pattern order; imports are local so that any environment can run any one.
# ---------------------------------------------------------------------------------------------


def _solve_dualnet(problem: Problem, relu: bool, options: dict):
    import warnings

    import dualnet

    if not hasattr(dualnet, "fit_relu"):
        raise _Skip("dualnet.fit_relu is not available in this dualnet build")
    patterns = dualnet.Patterns.from_masks(problem.masks, problem.gates)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = dualnet.fit_relu(
            problem.X,
            problem.y,
            problem.beta,
            patterns=patterns,
            model="relu" if relu else "gated",
            tol=options.get("tol", 1e-6),
            max_iter=options.get("max_iter"),
            n_threads=options.get("n_threads"),
        )
    info = {
        "_dual": np.asarray(fit.dual),
        "n_iter": int(fit.n_iter),
        "status": str(fit.status),
        "reported_relative_gap": float(fit.relative_gap),
        "warnings": [str(item.message)[:200] for item in caught],
    }
    # fit.v, fit.w: the convex blocks (d, P) in the order of the patterns passed in.
    return np.asarray(fit.v), (np.asarray(fit.w) if relu else None), info


def _solve_clarabel(problem: Problem, relu: bool, options: dict):
    # The same formulation as tests/reference/convex_programs.py, but with Clarabel's default
    # settings (what a user gets; they already certify gaps near 1e-9 here) instead of the
    # reference's tightened tolerances, and no status check: the certificate judges the answer.
    import cvxpy as cp

    X, y, masks, beta = problem.X, problem.y, problem.masks.astype(float), problem.beta
    d, p = X.shape[1], masks.shape[1]
    v = cp.Variable((d, p))
    if relu:
        w = cp.Variable((d, p))
        xv, xw = X @ v, X @ w
        signs = 2.0 * masks - 1.0
        yhat = cp.sum(cp.multiply(masks, xv - xw), axis=1)
        penalty = cp.sum(cp.norm(v, 2, axis=0)) + cp.sum(cp.norm(w, 2, axis=0))
        constraints = [cp.multiply(signs, xv) >= 0, cp.multiply(signs, xw) >= 0]
    else:
        w = None
        yhat = cp.sum(cp.multiply(masks, X @ v), axis=1)
        penalty = cp.sum(cp.norm(v, 2, axis=0))
        constraints = []
    problem_cp = cp.Problem(
        cp.Minimize(0.5 * cp.sum_squares(yhat - y) + beta * penalty), constraints
    )
    problem_cp.solve(solver=cp.CLARABEL)
    info = {"status": problem_cp.status, "solver_seconds": problem_cp.solver_stats.solve_time}
    return v.value, (w.value if relu else None), info


def _solve_scnn(problem: Problem, relu: bool, options: dict):
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, RFISTA

    X, y = problem.X, problem.y
    n = X.shape[0]
    if relu:
        model = ConvexReLU(problem.gates)
        keys = ("max_primal_iters", "max_dual_iters", "tol", "constraint_tol")
        solver = AL(model, **{k: options[k] for k in keys if k in options})
    else:
        model = ConvexGatedReLU(problem.gates)
        solver = RFISTA(model, **{k: options[k] for k in ("max_iters", "tol") if k in options})
    # scnn minimises ||r||^2 / (2n) + lam * sum of norms: lam = beta / n is the same problem.
    # unitize_data=False: otherwise scnn rescales the columns of X and solves another problem.
    model, _ = optimize_model(
        model,
        solver,
        Metrics(),
        X,
        y,
        regularizer=NeuronGL1(problem.beta / n),
        return_convex=True,
        unitize_data=False,
        dtype="float64",
    )
    # scnn keeps one block per distinct pattern in its own order: map back through the patterns.
    order = _pattern_positions(problem, X @ np.asarray(model.G) > 0)
    blocks = [np.asarray(param)[0].T for param in model.parameters]  # each (d, P_scnn)
    v = np.zeros((X.shape[1], problem.masks.shape[1]))
    w = np.zeros_like(v)
    v[:, order] = blocks[0]
    if relu:
        w[:, order] = blocks[1]
    return v, (w if relu else None), {}


def _pattern_positions(problem: Problem, masks: np.ndarray) -> np.ndarray:
    index = {np.packbits(col).tobytes(): i for i, col in enumerate(problem.masks.T)}
    try:
        return np.array([index[np.packbits(col).tobytes()] for col in masks.T], dtype=int)
    except KeyError as error:
        raise RuntimeError("a library returned a pattern outside the problem's set") from error


def _solve_adelie(problem: Problem, relu: bool, options: dict):
    import adelie as ad

    if relu:
        raise _Skip("adelie solves the gated program only")
    X, y, beta = problem.X, problem.y, problem.beta
    n, d = X.shape
    p = problem.masks.shape[1]
    design = ad.matrix.convex_relu(X, np.asfortranarray(problem.masks), gated=True)
    # adelie minimises sum_k w_k (y_k - eta_k)^2 / 2 + lmda * sum_g penalty_g ||b_g|| with weights
    # w_k = 1/n (up to a constant): lmda = beta / n and unit group penalties is the same problem.
    state = ad.grpnet(
        design,
        ad.glm.gaussian(y),
        groups=np.arange(0, d * p, d),
        penalty=np.ones(p),
        lmda_path=np.array([beta / n]),
        intercept=False,
        early_exit=False,
        progress_bar=False,
        tol=options.get("tol", 1e-7),
    )
    coef = np.asarray(state.betas[-1].toarray()).reshape(p, d).T
    return coef, None, {"lmda": float(state.lmdas[-1])}


ADAPTERS = {
    "dualnet": _solve_dualnet,
    "clarabel": _solve_clarabel,
    "scnn": _solve_scnn,
    "adelie": _solve_adelie,
}


class _Skip(Exception):
    """Raised by an adapter when it cannot run here; the message is the reason printed."""


def _worker(args) -> None:
    """Child process: solve one problem with one library, repeatedly while time allows."""
    problem = load_problem(args.problem)
    options = json.loads(args.options)
    relu = args.program == "relu"
    times, cpu_times, result = [], [], None
    try:
        start_all = time.perf_counter()
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            v, w, info = ADAPTERS[args.library](problem, relu, options)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - start_cpu)
            result = (v, w, info)
            spent = time.perf_counter() - start_all
            if spent + times[-1] > args.repeat_budget:
                break
    except _Skip as reason:
        np.savez(args.out, status=f"skipped ({reason})")
        return
    except ImportError as error:
        np.savez(args.out, status=f"skipped ({error})")
        return
    v, w, info = result
    v = np.zeros(problem.gates.shape) if v is None else np.asarray(v, dtype=float)
    dual = info.pop("_dual", None)
    np.savez(
        args.out,
        dual=np.zeros(0) if dual is None else np.asarray(dual, dtype=float),
        status="ok",
        v=v,
        w=np.zeros_like(v) if w is None else np.asarray(w, dtype=float),
        has_w=w is not None,
        times=np.array(times),
        cpu_times=np.array(cpu_times),
        info=json.dumps(info),
    )


# ---------------------------------------------------------------------------------------------
# Parent: problems, child processes, scoring, table.
# ---------------------------------------------------------------------------------------------


@dataclass
class Row:
    problem: str
    program: str
    library: str
    settings: str
    status: str
    seconds: float | None = None
    cpu_seconds: float | None = None
    repeats: int = 0
    primal: float | None = None
    relative_gap: float | None = None
    residual_relative_gap: float | None = None
    cone_violation: float | None = None
    info: dict = field(default_factory=dict)


def _time_cap(args, library: str) -> float:
    """Wall-time cap of one solve by `library`: its --library-time-cap entry, else --time-cap."""
    for entry in args.library_time_cap:
        name, _, seconds = entry.partition("=")
        if name == library:
            return float(seconds)
    return args.time_cap


def _run_child(python: str, library: str, program: str, problem_path: Path, options: dict, args):
    out = problem_path.with_name(f"{library}-{program}-{os.getpid()}-{time.monotonic_ns()}.npz")
    command = [
        python,
        str(Path(__file__).resolve()),
        "--worker",
        library,
        "--program",
        program,
        "--problem",
        str(problem_path),
        "--out",
        str(out),
        "--options",
        json.dumps(options),
        "--repeats",
        str(args.repeats),
        "--repeat-budget",
        str(args.repeat_budget),
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True,
            timeout=_time_cap(args, library) + args.startup_allowance,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timeout (> {_time_cap(args, library):g} s)"}
    if completed.returncode != 0 or not out.exists():
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"failed ({last[:160]})"}
    with np.load(out) as data:
        result = {key: data[key] for key in data.files}
    out.unlink()
    result["status"] = str(result["status"])
    return result


def _score(problem: Problem, program: str, library: str, settings: str, result, time_cap: float):
    row = Row(problem.name, program, library, settings, result["status"])
    if row.status != "ok":
        return row
    times = result["times"]
    row.seconds = float(statistics.median(times))
    row.cpu_seconds = float(statistics.median(result["cpu_times"]))
    row.repeats = len(times)
    row.info = json.loads(str(result["info"]))
    if row.seconds > time_cap:
        row.status = f"timeout ({row.seconds:.0f} s > {time_cap:g} s)"
    relu = program == "relu"
    v, w = result["v"], (result["w"] if bool(result["has_w"]) else None)
    dual = result["dual"] if result["dual"].size else None
    cert = certify(problem, v, w, relu, dual_point=dual)
    row.primal, row.relative_gap = cert.primal, cert.relative_gap
    row.residual_relative_gap = cert.residual_relative_gap
    if relu:
        row.cone_violation = cone_violation(problem, v, w if w is not None else np.zeros_like(v))
    return row


def _parse_sizes(text: str):
    sizes = []
    for item in text.split(","):
        n, d, p = (int(float(part)) for part in item.lower().split("x"))
        sizes.append((n, d, p))
    return sizes


def _skip_reason(library: str, program: str, problem: Problem, args) -> str | None:
    n, d, p = problem.shape
    if library not in args.libraries:
        return "not selected"
    if library == "adelie" and program == "relu":
        return None  # the adapter says why
    if library == "adelie" and not args.adelie_python:
        return "skipped (adelie environment not given)"
    if library == "clarabel" and n * p > args.clarabel_max_entries:
        return (
            f"skipped (cvxpy model has n*P = {n * p:.0e} masked entries per block matrix, above "
            f"--clarabel-max-entries {args.clarabel_max_entries:.0e}: expected to exceed the time "
            "cap and memory)"
        )
    return None


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _ratio_cells(row: Row, base: Row | None, time_cap: float):
    """(wall-time ratio, CPU-time ratio, gap ratio) of a row against the baseline row."""
    if base is None or base.seconds is None or base.status != "ok" or row is base:
        return "-", "-", "-"
    if row.status == "ok":
        speed = f"{row.seconds / base.seconds:.3g}x"
        cpu = f"{row.cpu_seconds / base.cpu_seconds:.3g}x" if base.cpu_seconds else "-"
    elif row.status.startswith("timeout"):
        speed = f">{time_cap / base.seconds:.3g}x"
        cpu = "-"
    else:
        return "-", "-", "-"
    gap = "-"
    if row.relative_gap is not None and base.relative_gap:
        gap = f"{row.relative_gap / max(base.relative_gap, 1e-16):.3g}x"
    return speed, cpu, gap


def render_table(rows: list[Row], baseline: str, time_cap) -> str:
    """Markdown table; ratios are the row's time (gap) over the baseline's on the same problem.

    `time_cap(library)` is the wall-time cap of that library's solves (for the lower bounds of
    timed-out rows).
    """
    lines = [
        "| problem n x d x P | program | library | settings | time (s) | CPU (s) | primal objective "
        f"| certified rel. gap | (residual only) | cone viol. | {baseline} speed-up (wall) "
        f"| (CPU) | gap / {baseline} gap |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        base = next(
            (
                r
                for r in rows
                if r.problem == row.problem and r.program == row.program and r.library == baseline
            ),
            None,
        )
        speed, cpu, gap = _ratio_cells(row, base, time_cap(row.library))
        status = "" if row.status == "ok" else row.status
        seconds = _fmt(row.seconds, ".3g") if row.status == "ok" else status
        if row.status == "ok" and row.repeats > 1:
            seconds += f" (median of {row.repeats})"
        lines.append(
            f"| {row.problem} | {row.program} | {row.library} | {row.settings} | {seconds} "
            f"| {_fmt(row.cpu_seconds, '.3g')} "
            f"| {_fmt(row.primal, '.10g')} | {_fmt(row.relative_gap, '.2e')} "
            f"| {_fmt(row.residual_relative_gap, '.2e')} "
            f"| {_fmt(row.cone_violation, '.1e')} | {speed} | {cpu} | {gap} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated n x d x P")
    parser.add_argument("--programs", default="gated,relu")
    parser.add_argument("--libraries", default="dualnet,clarabel,scnn,adelie")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--beta-fraction", type=float, default=0.05,
                        help="beta as a fraction of the gated beta_max")
    parser.add_argument("--near-duplicates", type=float, default=0.0, metavar="FRACTION",
                        help="fraction of each set's patterns that are neighbours of sampled ones "
                             "(a few rows apart, as column generation adds them)")
    parser.add_argument("--time-cap", type=float, default=300.0, help="seconds per solve")
    parser.add_argument("--library-time-cap", action="append", default=[], metavar="LIB=SECONDS",
                        help="another cap for one library's solves (repeatable), e.g. "
                        "clarabel=1200 to measure Clarabel where the common cap would stop it")
    parser.add_argument("--startup-allowance", type=float, default=30.0,
                        help="extra seconds for a child process to import and load")
    parser.add_argument("--repeats", type=int, default=3, help="repeats (median) where affordable")
    parser.add_argument("--repeat-budget", type=float, default=60.0,
                        help="repeat a solve only while the repeats stay within this many seconds")
    parser.add_argument("--clarabel-max-entries", type=float, default=5e6,
                        help="skip cvxpy + Clarabel when n * P exceeds this")
    parser.add_argument("--adelie-python", default=os.environ.get("DUALNET_BENCH_ADELIE_PYTHON"),
                        help="Python interpreter of an environment with adelie installed")
    parser.add_argument("--scnn-python", default=os.environ.get("DUALNET_BENCH_SCNN_PYTHON"),
                        help="Python interpreter for scnn (default: this one)")
    parser.add_argument("--skip-variant", action="append", default=[], metavar="LIB:SETTINGS",
                        help="leave out one library variant (repeatable), e.g. scnn:tol=1e-10")
    parser.add_argument("--baseline", default="dualnet", help="library the ratios refer to")
    parser.add_argument("--dualnet-threads", type=int, default=None, metavar="N",
                        help="threads of dualnet's solver (default: one per core); 1 compares wall "
                        "time with single-threaded peers like for like")
    parser.add_argument("--retry-after-timeout", action="store_true",
                        help="run a library variant again at a larger size after it timed out")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--merge-json", action="append", default=[],
                        help="include rows of an earlier run's --json output in the table "
                        "(rows of this run replace rows for the same problem and variant)")
    # Child-process mode (internal).
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--program", help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        args.library = args.worker
        _worker(args)
        return 0

    args.libraries = [] if args.libraries == "none" else args.libraries.split(",")
    programs = args.programs.split(",")
    pythons = {
        "adelie": args.adelie_python,
        "scnn": args.scnn_python or sys.executable,
    }
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    rows: list[Row] = []
    timed_out: set[tuple[str, str, str]] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for n, d, p in _parse_sizes(args.sizes):
            problem = make_problem(n, d, p, seed=args.seed, beta_fraction=args.beta_fraction,
                                   near_duplicates=round(args.near_duplicates * p))
            path = Path(tmp) / f"problem-{n}x{d}x{p}.npz"
            save_problem(problem, path)
            for program in programs:
                for library, settings, options in VARIANTS[program]:
                    reason = _skip_reason(library, program, problem, args)
                    if reason == "not selected" or f"{library}:{settings}" in args.skip_variant:
                        continue
                    variant = (program, library, settings)
                    if reason is None and variant in timed_out and not args.retry_after_timeout:
                        reason = "skipped (timed out on a smaller problem)"
                    if reason is not None:
                        row = Row(problem.name, program, library, settings, reason)
                    else:
                        python = pythons.get(library) or sys.executable
                        if library == "dualnet" and args.dualnet_threads is not None:
                            options = {**options, "n_threads": args.dualnet_threads}
                        result = _run_child(python, library, program, path, options, args)
                        row = _score(problem, program, library, settings, result,
                                     _time_cap(args, library))
                        if row.status.startswith("timeout"):
                            timed_out.add(variant)
                    rows.append(row)
                    if args.json:  # written as it goes, so an interrupted run keeps its rows
                        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=1))
                    print(
                        f"{row.problem:>15} {row.program:5} {row.library:8} {row.settings:10} "
                        f"{row.status if row.status != 'ok' else 'ok':8} "
                        f"time={_fmt(row.seconds, '.3g')} cpu={_fmt(row.cpu_seconds, '.3g')} "
                        f"primal={_fmt(row.primal, '.10g')} "
                        f"gap={_fmt(row.relative_gap, '.2e')} "
                        f"(residual {_fmt(row.residual_relative_gap, '.2e')}) "
                        f"cone={_fmt(row.cone_violation, '.1e')}",
                        flush=True,
                    )
    print(f"# finished {time.strftime('%H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print()
    print(render_table(_merge(rows, args.merge_json), args.baseline,
                       lambda library: _time_cap(args, library)))
    return 0


def _merge(rows: list[Row], paths: list[str]) -> list[Row]:
    """Rows of earlier runs (JSON files) followed by this run's, one per problem and variant,
    ordered by problem size, program and the order of VARIANTS."""
    merged: dict[tuple, Row] = {}
    for path in paths:
        for item in json.loads(Path(path).read_text()):
            row = Row(**item)
            merged[(row.problem, row.program, row.library, row.settings)] = row
    for row in rows:
        merged[(row.problem, row.program, row.library, row.settings)] = row

    def order(row: Row):
        size = tuple(int(part) for part in row.problem.split()[0].split("x"))
        labels = [(lib, label) for lib, label, _ in VARIANTS.get(row.program, [])]
        rank = labels.index((row.library, row.settings)) if (row.library, row.settings) in labels else 99
        return (size[0] * size[1] * size[2], row.program != "gated", rank)

    return sorted(merged.values(), key=order)


if __name__ == "__main__":
    sys.exit(main())
