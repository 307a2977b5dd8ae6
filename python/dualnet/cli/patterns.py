"""``dualnet patterns``: count, enumerate or sample the activation patterns of a data set."""

from __future__ import annotations

import time

import numpy as np

from ._common import (
    Progress,
    add_data_arguments,
    add_pattern_arguments,
    load_data,
    output_paths,
    pattern_report,
    write_json,
)


def add_parser(sub):
    parser = sub.add_parser(
        "patterns",
        help="count and enumerate or sample activation patterns, with coverage",
        description="The activation patterns 1[X g >= 0] of the data (the cells of its hyperplane "
        "arrangement): the exact count where it can be established, then the enumerated or "
        "sampled set and how much of the whole it covers. Without DATA: the embedded default "
        "data of 'dualnet fit'.",
    )
    add_data_arguments(parser)
    parser.add_argument("--bias", action="store_true", help="patterns of [X, 1]")
    add_pattern_arguments(parser)
    parser.add_argument("--out", metavar="FILE",
                        help="save the patterns: FILE.npz (masks, gates) and FILE.json (report)")
    parser.add_argument("--quiet", action="store_true", help="print no progress")


def run(args):
    import dualnet

    from .fit import patterns_for

    paths = output_paths(args.out) if args.out else None
    data = load_data(args.data, target=args.target, standardize=args.standardize)
    n, d = data.X.shape
    print(f"data             {data.source}: n = {n}, d = {d}, bias {'yes' if args.bias else 'no'}")
    start = time.perf_counter()
    with Progress("counting activation patterns", quiet=args.quiet):
        try:
            count = dualnet.count_patterns(data.X, bias=args.bias)
        except ValueError:
            count = None  # beyond the counting budget: the coverage report gives Cover's bound
    print("exact count      " + (str(count) if count is not None else
                                 "beyond the counting budget (see the coverage bound below)"))
    with Progress("finding activation patterns", quiet=args.quiet):
        patterns = patterns_for(args, data)
    report = pattern_report(patterns, data.X, args.bias)
    if count is not None and not patterns.exact:
        report["total"] = count
        report["coverage"] = len(patterns) / count
        report["text"] = (f"sampled: {len(patterns)} distinct patterns from {patterns.n_draws} "
                          f"random gates, of {count} in all, coverage {len(patterns) / count:.3g}")
    elapsed = time.perf_counter() - start
    active = patterns.masks.sum(axis=0)
    print(f"patterns         {report['text']}")
    print(f"active rows      per pattern: min {active.min()}, median {int(np.median(active))}, "
          f"max {active.max()} of {n}")
    print(f"time             {elapsed:.2f} s")
    report["exact_count"] = count
    report["time_seconds"] = elapsed
    if paths:
        np.savez(paths[0], masks=patterns.masks, gates=patterns.gates,
                 bias=np.bool_(args.bias))
        write_json(paths[1], report)
        print(f"saved            {paths[0]}, {paths[1]}")
    return 0
