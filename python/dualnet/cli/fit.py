"""``dualnet fit``: train a two-layer ReLU network to a certified global optimum and save it."""

from __future__ import annotations

import time
import warnings

from ._common import (
    add_data_arguments,
    add_pattern_arguments,
    Progress,
    UsageError,
    load_data,
    output_paths,
    pattern_report,
    positive_float,
    priced_report,
    positive_int,
    write_json,
)

DEFAULT_BETA = 10.0


def add_parser(sub):
    parser = sub.add_parser(
        "fit",
        help="train a two-layer ReLU network to certified global optimality",
        description="Solve the convex program of a two-layer ReLU network with weight decay "
        "(loss 1/2||yhat - y||^2 summed, weight decay beta/2 on both layers), print the "
        "certificate and save the network (MODEL.npz) and its certificate (MODEL.json). Without "
        "DATA it runs on scikit-learn's diabetes data, standardised.",
    )
    add_data_arguments(parser)
    parser.add_argument("--beta", type=positive_float, default=DEFAULT_BETA,
                        help=f"weight decay (default {DEFAULT_BETA:g})")
    parser.add_argument("--model", choices=("relu", "gated"), default="relu",
                        help="exact ReLU program or the gated-ReLU relaxation (default relu)")
    parser.add_argument("--loss", metavar="LOSS",
                        help="training loss, passed to fit_relu as loss= (default: squared)")
    parser.add_argument("--bias", action="store_true",
                        help="give the hidden neurons biases (regularized like the weights)")
    add_pattern_arguments(parser, pricing=True)
    parser.add_argument("--tol", type=positive_float, default=1e-6,
                        help="certified relative duality gap to reach (default 1e-6)")
    parser.add_argument("--max-iter", type=positive_int, metavar="N",
                        help="solver iteration limit")
    parser.add_argument("--out", metavar="MODEL", default="dualnet-model",
                        help="where to save: MODEL.npz and MODEL.json (default dualnet-model)")
    parser.add_argument("--quiet", action="store_true", help="print no progress")


def patterns_for(args, data):
    """The activation patterns the options ask for (the pattern-set stage of fit and patterns)."""
    import dualnet

    if args.patterns == "exact" and args.n_patterns is not None:
        raise UsageError("--n-patterns applies to sampled patterns, not --patterns exact")
    try:
        return dualnet.activation_patterns(
            data.X, bias=args.bias, method=args.patterns, n_gates=args.n_patterns,
            random_state=args.seed,
        )
    except ValueError as exc:
        if args.patterns == "exact":
            reason = str(exc).splitlines()[0].split("; raise max_patterns")[0]
            raise UsageError(f"--patterns exact: {reason}; use --patterns sample or auto"
                             ) from None
        raise


def _fit(data, args, patterns, options):
    import dualnet
    from ..relu import _fit_relu

    common = dict(patterns=patterns, model=args.model, bias=args.bias, tol=args.tol,
                  max_iter=args.max_iter, random_state=args.seed)
    if isinstance(patterns, str) and args.n_patterns is not None:
        # The seed of pricing: --n-patterns random gates (and a briefly trained network).
        return _fit_relu(data.X, data.y, args.beta, verbose=False, **common,
                         warning=dualnet.ConvergenceWarning,
                         seed_options={"n_gates": args.n_patterns})
    return dualnet.fit_relu(data.X, data.y, args.beta, **common, **options)


def run(args):
    import dualnet
    from ..interop import save_network

    model_path, json_path = output_paths(args.out)
    data = load_data(args.data, target=args.target, standardize=args.standardize)
    n, d = data.X.shape
    print(f"data             {data.source}: n = {n}, d = {d}, target {data.target!r}")
    start = time.perf_counter()
    # --patterns auto is fit_relu's default (the exact set when affordable, else pricing),
    # which the library offers for the squared loss; other losses take the sampled set.
    priced = args.patterns == "auto" and args.loss in (None, "squared")
    if priced:
        patterns = "auto"
    else:
        with Progress("finding activation patterns", quiet=args.quiet):
            patterns = patterns_for(args, data)
        report = pattern_report(patterns, data.X, args.bias)
        print(f"patterns         {report['text']}")
    options = {"loss": args.loss} if args.loss is not None else {}
    stage = ("finding activation patterns and solving" if priced else "solving")
    with Progress(f"{stage} the convex program (beta = {args.beta:g})", quiet=args.quiet):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", dualnet.ConvergenceWarning)
            try:
                fit = _fit(data, args, patterns, options)
            except TypeError as exc:
                if "loss" in options and "loss" in str(exc):
                    raise UsageError(
                        "--loss: this version of dualnet trains with the squared loss only "
                        f"({exc})"
                    ) from None
                raise
    if priced:
        report = priced_report(fit, data.X, args.bias)
        print(f"patterns         {report['text']}")
    elapsed = time.perf_counter() - start
    print(f"primal objective {fit.primal_objective:.10g}")
    print(f"certified dual   {fit.dual_objective:.10g}")
    print(f"relative gap     {fit.relative_gap:.3g} (tol {args.tol:g}"
          f"{', converged' if fit.converged else ', NOT converged: raise --max-iter'})")
    print(f"width            {fit.width} neurons")
    print(f"time             {elapsed:.2f} s")
    for warning in caught:
        if not issubclass(warning.category, dualnet.ConvergenceWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    save_network(model_path, fit.first_layer, fit.second_layer, bias=fit.bias,
                 beta=fit.beta, dual=fit.dual)
    certificate = {
        "data": data.source,
        "n": n,
        "d": d,
        "target": data.target,
        "columns": list(data.columns),
        "beta": fit.beta,
        "model": fit.model,
        "bias": fit.bias,
        "loss": args.loss or "squared",
        "patterns": report,
        "primal_objective": fit.primal_objective,
        "dual_objective": fit.dual_objective,
        "duality_gap": fit.duality_gap,
        "relative_gap": fit.relative_gap,
        "tol": args.tol,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
        "width": fit.width,
        "time_seconds": elapsed,
        "weights": model_path,
    }
    write_json(json_path, certificate)
    print(f"saved            {model_path} (weights), {json_path} (certificate)")
    return 0
