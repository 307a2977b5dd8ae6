"""``dualnet reproduce``: rerun the paper's experiments, writing figures and a results table."""

from __future__ import annotations

import os
import time

from ._common import Progress, UsageError, bar


def add_parser(sub):
    from ..experiments import EXPERIMENTS

    parser = sub.add_parser(
        "reproduce",
        help="reproduce the experiments of the paper (figures and a results table)",
        description="Non-convex training (full-batch gradient descent with weight decay from "
        "several random starts, in numpy) against dualnet's convex and dual optima: "
        + "; ".join(f"{name}: {module.TITLE}" for name, module in EXPERIMENTS.items())
        + ". Writes PNG figures (with matplotlib installed: pip install 'dualnet[plot]') and "
        "results.md / results.json to --out.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"experiments to run (default all: {', '.join(EXPERIMENTS)})")
    parser.add_argument("--out", metavar="DIR", default="dualnet-results",
                        help="output directory (default dualnet-results)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer random starts and iterations: a few minutes on 2 cores")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random starts")
    parser.add_argument("--quiet", action="store_true", help="print no progress")


def run(args):
    from ..experiments import EXPERIMENTS, plotting_available, write_results

    names = args.names or list(EXPERIMENTS)
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise UsageError(f"unknown experiment {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(EXPERIMENTS)}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} exists and is not a directory")
    os.makedirs(args.out, exist_ok=True)
    plot = plotting_available()
    if not plot:
        print("matplotlib is not installed: numbers only, no figures "
              "(pip install 'dualnet[plot]' for the figures)")
    rows, figures, timings = [], [], {}
    start = time.perf_counter()
    for done, name in enumerate(names):
        if not args.quiet:
            print(f"{bar(done, len(names))} {name}: {EXPERIMENTS[name].TITLE}", flush=True)
        with Progress(f"  running {name}", quiet=args.quiet) as progress:
            result = EXPERIMENTS[name].run(out=args.out, quick=args.quick, seed=args.seed,
                                           plot=plot)
        timings[name] = progress.elapsed
        rows.extend(result.rows)
        figures.extend(result.figures)
        for row in result.rows:
            print(f"  {row.format()}")
    elapsed = time.perf_counter() - start
    if not args.quiet:
        print(f"{bar(len(names), len(names))} done in {elapsed:.1f} s")
    markdown, json_path = write_results(args.out, rows, figures, quick=args.quick,
                                        seconds=timings)
    print(f"saved            {markdown}, {json_path}"
          + (f" and {len(figures)} figures" if figures else ""))
    return 0
