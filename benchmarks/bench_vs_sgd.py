"""dualnet against gradient training of the same network: regularized objective and wall time.

Every method is scored on one objective per problem, the weight-decay training objective of a
two-layer ReLU network without biases (dualnet's convention, theory notes section 1):

    f(U, a) = L((X U)_+ a, y) + beta/2 (||U||_F^2 + ||a||^2),

with L the squared loss 1/2 ||yhat - y||^2 or the logistic loss sum log(1 + exp(-y_i yhat_i))
(``LOSSES``), evaluated by this script on the network each method returns. Methods:

- dualnet: ``dualnet.fit_relu(X, y, beta, loss=...)`` at its default settings (the exact
  pattern set when affordable, else a short Adam seed trained on the problem's loss, 64 neurons
  for the squared loss and 32 for the logistic one, and column generation).
- Adam and SGD (momentum 0.9), full batch, on the non-convex network in PyTorch (float64, one
  thread, no biases, the problem's objective as the training loss), over several widths, learning rates and
  seeds; the best final objective is reported with the time of that run and of the whole sweep.
- scnn (pyscnn) ``optimize("relu", max_neurons, ...)``: its default sampled gates, lam = beta / n
  (scnn minimises ||r||^2 / (2n) + lam * sum of norms), float64, no column rescaling; the
  network it returns is scored like the others (its cone constraints hold only to its
  tolerance, so its convex objective is not used). Run in a child process with a time limit,
  on the squared-loss problems only (this script calls its squared-loss ``optimize``).

Problems: diabetes (scikit-learn's bundled copy, X and y standardised, n = 442, d = 10); a
planted network (X ~ N(0, 1), y from a random 5-neuron ReLU network plus 10% noise), n = 2000,
d = 10 and d = 20; breast_cancer (standardised X, n = 569, d = 30) with labels +-1 and the
logistic loss. beta = ``ALPHA * n`` (sklearn's mean-loss alpha = 1e-2).

Usage (PyTorch and pyscnn installed; see BENCHMARKS.md for the recorded run)::

    python benchmarks/bench_vs_sgd.py [--problems diabetes,planted10,...] [--quick]
        [--methods dualnet,adam,sgd,scnn] [--no-scnn] [--json rows.json]

``--methods dualnet`` times dualnet alone (ratios and speed-ups are then against itself only).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

import numpy as np

ALPHA = 1e-2
#: Loss of each problem, used by every method and by the scoring.
LOSSES = {"diabetes": "squared", "planted10": "squared", "planted20": "squared",
          "breast_cancer": "logistic"}
WIDTHS = (32, 128)
ADAM_RATES = (1e-3, 1e-2)
SGD_RATES = (1e-2, 1e-1)  # divided by n: the loss is summed over the samples
SEEDS = (0, 1)
STEPS = 2000
SCNN_NEURONS = 500
SCNN_TIMEOUT = 180.0


def _standardise(a):
    a = np.asarray(a, dtype=np.float64)
    return (a - a.mean(axis=0)) / a.std(axis=0)


def load_problem(name):
    """(X, y) of a named problem."""
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
        return np.ascontiguousarray(_standardise(X)), _standardise(y)
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        return np.ascontiguousarray(_standardise(X)), np.where(y == 1, 1.0, -1.0)
    if name.startswith("planted"):
        d = int(name[len("planted"):])
        rng = np.random.default_rng(0)
        X = rng.standard_normal((2000, d))
        first = rng.standard_normal((d, 5)) / np.sqrt(d)
        second = rng.choice([-1.0, 1.0], size=5) * (1.0 + rng.random(5))
        clean = np.maximum(X @ first, 0.0) @ second
        return X, clean + 0.1 * np.std(clean) * rng.standard_normal(2000)
    raise ValueError(f"unknown problem {name!r}")


def objective(X, y, beta, U, a, loss="squared"):
    """f(U, a), computed here for every method."""
    out = np.maximum(X @ U, 0.0) @ a
    if loss == "logistic":
        data = float(np.sum(np.logaddexp(0.0, -y * out)))
    else:
        data = 0.5 * float((out - y) @ (out - y))
    return data + 0.5 * beta * float(np.sum(U * U) + a @ a)


def run_dualnet(X, y, beta, loss="squared"):
    import dualnet

    start, cpu = time.perf_counter(), time.process_time()
    fit = dualnet.fit_relu(X, y, beta, random_state=0, loss=loss)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    note = f"{len(fit.patterns)} patterns, width {fit.width}, gap {fit.relative_gap:.1e}"
    report = getattr(fit, "pricing", None)
    if report is not None:
        note += (f", {report.n_rounds} rounds, stop={report.stop}, "
                 f"certificate={report.certificate}")
    return objective(X, y, beta, fit.first_layer, fit.second_layer, loss), seconds, cpu, note


def _train_torch(X, y, beta, width, optimizer, rate, seed, loss="squared"):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], width, bias=False), torch.nn.ReLU(),
                              torch.nn.Linear(width, 1, bias=False)).double()
    if optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=rate)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=rate / X.shape[0], momentum=0.9)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(STEPS):
        opt.zero_grad()
        out = net(Xt)[:, 0]
        if loss == "logistic":
            data = torch.nn.functional.softplus(-yt * out).sum()
        else:
            data = 0.5 * ((out - yt) ** 2).sum()
        value = data + 0.5 * beta * sum((p * p).sum() for p in net.parameters())
        value.backward()
        opt.step()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    U = net[0].weight.detach().numpy().T
    a = net[2].weight.detach().numpy()[0]
    value = objective(X, y, beta, U, a, loss)
    return (value if np.isfinite(value) else np.inf), seconds, cpu


def run_sweep(X, y, beta, optimizer, rates, seeds, loss="squared"):
    """Best run over widths x rates x seeds: (objective, its time, its CPU, sweep time, note)."""
    best, total = None, 0.0
    for width in WIDTHS:
        for rate in rates:
            for seed in seeds:
                value, seconds, cpu = _train_torch(X, y, beta, width, optimizer, rate, seed,
                                                   loss)
                total += seconds
                if best is None or value < best[0]:
                    best = (value, seconds, cpu, f"width {width}, lr {rate:g}, seed {seed}")
    runs = len(WIDTHS) * len(rates) * len(seeds)
    return best[0], best[1], best[2], total, f"best of {runs}: {best[3]}, {STEPS} steps"


def _scnn_child(X, y, beta, queue):
    from scnn.optimize import optimize
    from scnn.regularizers import NeuronGL1

    from dualnet._network import map_back

    start, cpu = time.perf_counter(), time.process_time()
    model, _ = optimize("relu", SCNN_NEURONS, X, y, regularizer=NeuronGL1(beta / X.shape[0]),
                        return_convex=True, unitize_data=False, dtype="float64")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    v, w = (np.asarray(p)[0].T for p in model.parameters)
    U, a = map_back(v, w)
    queue.put((objective(X, y, beta, U, a), seconds, cpu, f"{SCNN_NEURONS} sampled gates"))


def run_scnn(X, y, beta):
    queue = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=_scnn_child,
                                                         args=(X, y, beta, queue))
    child.start()
    child.join(SCNN_TIMEOUT)
    if child.is_alive():
        child.kill()
        child.join()
        return None, f"timeout (> {SCNN_TIMEOUT:g} s)"
    if queue.empty():
        return None, f"failed (exit code {child.exitcode})"
    return queue.get(), ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", default="diabetes,planted10,planted20,breast_cancer")
    parser.add_argument("--quick", action="store_true", help="one seed per configuration")
    parser.add_argument("--methods", default="dualnet,adam,sgd,scnn",
                        help="comma-separated subset of dualnet,adam,sgd,scnn (dualnet always runs)")
    parser.add_argument("--no-scnn", action="store_true", help="same as leaving scnn out of --methods")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    seeds = SEEDS[:1] if args.quick else SEEDS
    methods = set(args.methods.split(","))
    unknown = methods - {"dualnet", "adam", "sgd", "scnn"}
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}")
    if args.no_scnn:
        methods.discard("scnn")
    rows = []
    header = ("| problem (n x d, beta) | loss | method | objective | ratio to dualnet | time (s) | "
              "dualnet speed-up | CPU (s) | sweep time (s) | settings |")
    print(header)
    print("|" + "---|" * 10)
    for name in args.problems.split(","):
        X, y = load_problem(name)
        n, d = X.shape
        beta = ALPHA * n
        results = []
        loss = LOSSES[name]
        value, seconds, cpu, note = run_dualnet(X, y, beta, loss)
        results.append(("dualnet", value, seconds, cpu, None, note))
        for optimizer, rates in (("adam", ADAM_RATES), ("sgd", SGD_RATES)):
            if optimizer not in methods:
                continue
            value, seconds, cpu, total, note = run_sweep(X, y, beta, optimizer, rates, seeds,
                                                         loss)
            results.append((optimizer, value, seconds, cpu, total, note))
        if "scnn" in methods and loss != "squared":
            results.append(("scnn", None, None, None, None, "not run (squared loss only here)"))
        elif "scnn" in methods:
            out, failure = run_scnn(X, y, beta)
            if out is None:
                results.append(("scnn", None, None, None, None, failure))
            else:
                results.append(("scnn",) + out[:3] + (None, out[3]))
        reference, ref_time = results[0][1], results[0][2]
        for method, value, seconds, cpu, total, note in results:
            row = {"problem": name, "n": n, "d": d, "beta": beta, "loss": LOSSES[name],
                   "method": method, "objective": value, "seconds": seconds, "cpu": cpu,
                   "sweep_seconds": total, "settings": note}
            rows.append(row)
            fmt = (lambda v, spec: "-" if v is None else format(v, spec))
            print(f"| {name} ({n} x {d}, {beta:g}) | {LOSSES[name]} | {method} | "
                  f"{fmt(value, '.6g')} | {fmt(None if value is None else value / reference, '.4f')} | "
                  f"{fmt(seconds, '.3g')} | "
                  f"{fmt(None if seconds is None else seconds / ref_time, '.3g')} | "
                  f"{fmt(cpu, '.3g')} | {fmt(total, '.3g')} | {note} |", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
