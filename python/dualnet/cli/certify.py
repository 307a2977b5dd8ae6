"""``dualnet certify``: the certificate of a saved or imported two-layer ReLU network."""

from __future__ import annotations

import os
import time

import numpy as np

from ._common import (
    add_data_arguments,
    add_pattern_arguments,
    Progress,
    UsageError,
    load_data,
    pattern_report,
    positive_float,
    write_json,
)


def add_parser(sub):
    parser = sub.add_parser(
        "certify",
        help="certify a trained network against the global optimum",
        description="Compute a network's weight-decay objective, a certified lower bound on the "
        "optimum (from its residual, rescaled to be dual feasible) and the gap. MODEL is a file "
        "written by 'dualnet fit' (.npz), a PyTorch state_dict of nn.Sequential(Linear, ReLU, "
        "Linear) (.pt or .pth), or a pickled scikit-learn MLPRegressor (.joblib or .pkl; only "
        "load pickles you trust). Without DATA: the embedded default data of 'dualnet fit'.",
    )
    parser.add_argument("model", metavar="MODEL")
    add_data_arguments(parser)
    parser.add_argument("--beta", type=positive_float,
                        help="weight decay (default: the beta stored in MODEL.npz)")
    add_pattern_arguments(parser)
    parser.add_argument("--out", metavar="FILE", help="also write the certificate as JSON")
    parser.add_argument("--quiet", action="store_true", help="print no progress")


def _load_torch(path):
    try:
        import torch
    except ImportError:
        raise UsageError(f"{path}: reading a PyTorch file needs torch (pip install torch)"
                         ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for unreadable files
        raise UsageError(f"{path} is not a readable PyTorch state_dict ({exc})") from None
    if isinstance(state, torch.nn.Module):
        return state
    if not isinstance(state, dict) or "0.weight" not in state or "2.weight" not in state:
        raise UsageError(
            f"{path} must hold the state_dict of nn.Sequential(Linear, ReLU, Linear) (keys "
            "0.weight, 2.weight and optionally 0.bias, 2.bias)"
        )
    hidden, output = state["0.weight"], state["2.weight"]
    module = torch.nn.Sequential(
        torch.nn.Linear(hidden.shape[1], hidden.shape[0], bias="0.bias" in state,
                        dtype=hidden.dtype),
        torch.nn.ReLU(),
        torch.nn.Linear(output.shape[1], output.shape[0], bias="2.bias" in state,
                        dtype=output.dtype),
    )
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise UsageError(f"{path}: {str(exc).splitlines()[0]}") from None
    return module


def load_model(path):
    """(network, beta stored with it or None) from MODEL."""
    from ..interop import load_network, network_weights

    if not os.path.exists(path):
        raise UsageError(f"no such file: {path}")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        try:
            weights = load_network(path)
        except (OSError, ValueError) as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        with np.load(path, allow_pickle=False) as data:
            beta = float(data["beta"]) if "beta" in data.files else None
        return weights, beta
    if ext in (".pt", ".pth"):
        return network_weights(_load_torch(path)), None
    if ext in (".joblib", ".pkl", ".pickle"):
        import joblib

        try:
            estimator = joblib.load(path)
        except Exception as exc:  # unpickling raises anything
            raise UsageError(f"{path} is not a readable pickle ({exc})") from None
        return network_weights(estimator), None
    raise UsageError(f"MODEL {path}: unknown file type {ext or '(none)'}; use .npz, .pt/.pth or "
                     ".joblib/.pkl")


def run(args):
    import dualnet

    from .fit import patterns_for

    network, stored_beta = load_model(args.model)
    beta = args.beta if args.beta is not None else stored_beta
    if beta is None:
        raise UsageError(f"--beta is required: {args.model} stores no beta")
    if network.second_layer.ndim != 1:
        raise UsageError(f"{args.model} has {network.second_layer.shape[1]} outputs; certify "
                         "handles one output")
    data = load_data(args.data, target=args.target, standardize=args.standardize)
    n, d = data.X.shape
    expected = network.first_layer.shape[0] - int(network.bias)
    if expected != d:
        raise UsageError(f"{args.model} takes {expected} features but {data.source} has {d}")
    print(f"data             {data.source}: n = {n}, d = {d}")
    print(f"network          {args.model}: width {network.first_layer.shape[1]}, "
          f"hidden biases {'yes' if network.bias else 'no'}, beta = {beta:g}")
    args.bias = network.bias
    start = time.perf_counter()
    with Progress("finding activation patterns", quiet=args.quiet):
        patterns = patterns_for(args, data)
    report = pattern_report(patterns, data.X, network.bias)
    print(f"patterns         {report['text']}")
    with Progress("certifying", quiet=args.quiet):
        cert = dualnet.certify(data.X, data.y, beta, network.first_layer, network.second_layer,
                               patterns=patterns, bias=network.bias)
    elapsed = time.perf_counter() - start
    scope = "global" if cert.exact else "relative to the pattern set"
    print(f"objective        {cert.primal_objective:.10g}")
    print(f"lower bound      {cert.lower_bound:.10g} ({scope})")
    print(f"duality gap      {cert.duality_gap:.6g}")
    print(f"relative gap     {cert.relative_gap:.3g}")
    print(f"time             {elapsed:.2f} s")
    if args.out:
        write_json(args.out, {
            "model": args.model, "data": data.source, "n": n, "d": d, "beta": beta,
            "bias": network.bias, "width": int(network.first_layer.shape[1]),
            "patterns": report, "primal_objective": cert.primal_objective,
            "lower_bound": cert.lower_bound, "duality_gap": cert.duality_gap,
            "relative_gap": cert.relative_gap, "exact": cert.exact, "time_seconds": elapsed,
        })
        print(f"saved            {args.out}")
    return 0
