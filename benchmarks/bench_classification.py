"""Classification with certified convex training: dualnet against cvxpy + Clarabel and scnn, and
non-convex references (scikit-learn's MLPClassifier, an Adam-trained network of the same width).

Data: breast_cancer (binary), wine (3 classes) and digits (10 classes), all bundled with
scikit-learn; stratified 75/25 train/test split (seed 0), features standardised on the training
set, a ones column appended (the hidden biases are regularized like the weights). Every convex
solver gets the same sampled activation patterns (Gaussian gates, distinct non-empty patterns,
``problems.sample_distinct_patterns``) and beta = alpha * n_train.

Programs (docs/theory.md sections 6 and 7), summed losses:

- binary: logistic loss, gated program and exact ReLU program;
- multiclass: softmax cross-entropy, gated program with one nuclear norm per block (dualnet,
  Clarabel), and the ReLU program one-vs-rest with logistic losses (dualnet, Clarabel).

scnn's convex models have the squared loss only: it is run on the same patterns with targets in
{-1, +1} (binary) or one-hot (multiclass), lam = beta / n (its 1/(2n) convention), so its time and
accuracies are comparable but its objective and gap are those of another program and are not
reported; its ReLU solver (augmented Lagrangian) runs with at most 1000 primal and 1000 dual
iterations. Clarabel's solution is scored with dualnet's own objective and certificate code
(the duality toolkit's conjugates, block dual norms recomputed here), so gaps are comparable;
dualnet's gap is the better of -grad L at its blocks and its returned dual point, the latter
checked by the same code.

MLPClassifier: one hidden layer of the width of dualnet's ReLU network, alpha = beta (its
weight decay alpha/(2n) ||W||^2 with a mean loss is ours divided by n; its biases are not
regularized), lbfgs; the Adam network:
same width, full-batch Adam on our summed objective (hidden biases regularized, output bias none
for the binary case to match the convex model). Their objective is reported in our convention.

Usage::

    python benchmarks/bench_classification.py [--data digits] [--patterns 50] [--alpha 1e-2]
        [--time-cap 600] [--json out.json]

Clarabel (cvxpy's compilation included), scnn and Adam run in a child process stopped after
``--time-cap`` seconds; a stopped run is a row saying so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from problems import sample_distinct_patterns  # noqa: E402


def _data(name):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "digits": datasets.load_digits}[name]
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    augment = lambda Z: np.hstack([scaler.transform(Z), np.ones((Z.shape[0], 1))])  # noqa: E731
    return augment(X_train), augment(X_test), y_train, y_test


def _accuracy(scores, labels):
    predicted = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
    return float(np.mean(predicted == labels))


def _block_outputs(X, masks, v, w):
    """sum_i D_i X (v_i - w_i) for blocks (g, P) or (g, P, K)."""
    u = v - w
    if u.ndim == 2:
        return np.sum(masks * (X @ u), axis=1)
    return np.einsum("np,ng,gpk->nk", masks.astype(float), X, u)


def _certificate(X, masks, y, beta, v, w, loss, relu, returned_dual=None):
    """Objective and certified relative gap of blocks under the loss, computed here (from
    -grad L at the blocks, or from ``returned_dual`` if that certifies a smaller gap)."""
    from dualnet.duality.losses import get_loss
    from dualnet._core import project_onto_pattern_cone
    from dualnet import Patterns

    loss_fn = get_loss(loss)
    yhat = _block_outputs(X, masks, v, w)
    if v.ndim == 3 and loss == "cross_entropy":
        penalty = sum(np.linalg.svd(v[:, i, :], compute_uv=False).sum() for i in range(v.shape[1]))
    else:
        penalty = np.linalg.norm(v, axis=0).sum() + np.linalg.norm(w, axis=0).sum()
    primal = loss_fn.value(yhat, y) + beta * penalty
    def dual_value(lam):
        if lam.ndim == 2:
            bound = max(np.linalg.norm(X.T @ (masks[:, [i]] * lam), 2)
                        for i in range(masks.shape[1]))
        else:
            gradients = X.T @ (masks * lam[:, None])
            if not relu:
                bound = float(np.max(np.linalg.norm(gradients, axis=0)))
            else:
                pattern_set = Patterns.from_masks(masks, np.full((X.shape[1], masks.shape[1]),
                                                                 np.nan)).pattern_set
                bound = max(project_onto_pattern_cone(X, pattern_set, i, s * gradients[:, i])[1]
                            for i in range(masks.shape[1]) for s in (1.0, -1.0))
        return loss_fn.dual_objective(lam / max(1.0, bound * (1 + 1e-12) / beta), y)

    # -grad L at the solution; a solver's own dual point is checked the same way (rescaled by the
    # block bounds computed here, -inf outside the conjugate's domain) and the better one kept.
    dual = dual_value(loss_fn.optimal_dual(yhat, y))
    if returned_dual is not None:
        dual = max(dual, dual_value(np.asarray(returned_dual, dtype=np.float64)))
    return float(primal), float((primal - dual) / primal)


def _clarabel(X, masks, target, beta, loss, relu):
    import cvxpy as cp

    g, P = X.shape[1], masks.shape[1]
    D = masks.astype(float)
    if loss == "cross_entropy":
        K = target.shape[1]
        blocks = [cp.Variable((g, K)) for _ in range(P)]
        Z = sum(cp.multiply(np.repeat(D[:, [i]], K, axis=1), X @ blocks[i]) for i in range(P))
        objective = (cp.sum(cp.log_sum_exp(Z, axis=1)) - cp.sum(cp.multiply(target, Z))
                     + beta * sum(cp.normNuc(b) for b in blocks))
        cp.Problem(cp.Minimize(objective)).solve(solver=cp.CLARABEL)
        V = np.stack([np.asarray(b.value) for b in blocks], axis=1)
        return V, np.zeros_like(V)
    V = cp.Variable((g, P))
    W = cp.Variable((g, P)) if relu else None
    yhat = cp.sum(cp.multiply(D, X @ (V - W if relu else V)), axis=1)
    penalty = cp.sum(cp.norm(V, 2, axis=0)) + (cp.sum(cp.norm(W, 2, axis=0)) if relu else 0)
    constraints = []
    if relu:
        signs = 2 * D - 1
        constraints = [cp.multiply(signs, X @ V) >= 0, cp.multiply(signs, X @ W) >= 0]
    objective = cp.sum(cp.logistic(-cp.multiply(target, yhat))) + beta * penalty
    cp.Problem(cp.Minimize(objective), constraints).solve(solver=cp.CLARABEL)
    v = np.asarray(V.value)
    return v, (np.asarray(W.value) if relu else np.zeros_like(v))


def _scnn(X, gates, target, beta, relu):
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, RFISTA

    c = 1 if target.ndim == 1 else target.shape[1]
    model = ConvexReLU(gates, c=c) if relu else ConvexGatedReLU(gates, c=c)
    # The augmented Lagrangian's defaults took over 10 minutes on breast_cancer: capped here.
    solver = AL(model, max_primal_iters=1000, max_dual_iters=1000) if relu else RFISTA(model)
    model, _ = optimize_model(model, solver, Metrics(), X, target, regularizer=NeuronGL1(
        beta / X.shape[0]), return_convex=True, unitize_data=False, dtype="float64")
    return model


def _scnn_scores(X, X_test, gates, target, beta, relu):
    """scnn's outputs on the training and the test data (a model object does not cross a
    process boundary)."""
    model = _scnn(X, gates, target, beta, relu)
    return _scnn_outputs(model, X), _scnn_outputs(model, X_test)


def _capped(seconds, function, *args):
    """function(*args) in a forked child process, killed after `seconds`: (result, elapsed), with
    result None when the cap was reached. cvxpy's compilation and scnn's solvers cannot be
    interrupted from the outside otherwise."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child():
        try:
            sender.send(("ok", function(*args)))
        except Exception as error:  # noqa: BLE001 -- reported in the parent's table
            sender.send(("error", f"{type(error).__name__}: {error}"))

    start = time.perf_counter()
    process = context.Process(target=child, daemon=True)
    process.start()
    ready = receiver.poll(seconds)
    elapsed = time.perf_counter() - start
    if not ready:
        process.kill()
        process.join()
        return None, elapsed
    status, value = receiver.recv()
    process.join()
    if status == "error":
        raise RuntimeError(value)
    return value, elapsed


def _scnn_outputs(model, X):
    out = np.asarray(model(X))
    return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out


def _network_objective(X, target, beta, U, a, loss, output_bias=None):
    from dualnet.duality.losses import get_loss

    out = np.maximum(X @ U, 0) @ a
    if output_bias is not None:
        out = out + output_bias
    return float(get_loss(loss).value(out, target) + beta / 2 * (np.sum(U * U) + np.sum(a * a)))


def _adam(X, target, beta, width, loss, seed=0, steps=3000, lr=1e-2):
    import torch

    torch.manual_seed(seed)
    Xt = torch.tensor(X)
    K = 1 if target.ndim == 1 else target.shape[1]
    U = (torch.randn(X.shape[1], width, dtype=torch.float64) / np.sqrt(X.shape[1]))
    a = torch.randn(width, K, dtype=torch.float64) / np.sqrt(width)
    U.requires_grad_(True)
    a.requires_grad_(True)
    T = torch.tensor(target)
    optimizer = torch.optim.Adam([U, a], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        out = torch.relu(Xt @ U) @ a
        if K == 1:
            data = torch.nn.functional.softplus(-T * out[:, 0]).sum()
        else:
            data = (torch.logsumexp(out, dim=1) - (T * out).sum(dim=1)).sum()
        objective = data + beta / 2 * ((U * U).sum() + (a * a).sum())
        objective.backward()
        optimizer.step()
    U, a = U.detach().numpy(), a.detach().numpy()
    return U, (a[:, 0] if K == 1 else a)


def run(name, n_patterns, alpha, seed=0, libraries=("dualnet", "clarabel", "scnn", "mlp", "adam"),
        time_cap=600.0):
    import dualnet

    X, X_test, labels, labels_test = _data(name)
    n = X.shape[0]
    K = int(labels.max()) + 1
    beta = alpha * n
    rng = np.random.default_rng(seed)
    gates, masks = sample_distinct_patterns(X, n_patterns, rng)
    patterns = dualnet.Patterns.from_masks(masks, gates)
    binary = K == 2
    rows = []
    programs = [("gated", "logistic" if binary else "cross_entropy"),
                ("relu", "logistic" if binary else "cross_entropy")]
    widths = {}
    for model, loss in programs:
        target = (2.0 * labels - 1.0) if binary else np.eye(K)[labels]
        relu = model == "relu"
        program = f"{model} {loss}" + ("" if binary or not relu else " (one-vs-rest)")
        # The objective the certificate is for: one-vs-rest ReLU is K logistic programs.
        score_loss = "logistic" if relu and not binary else loss

        def certify(v, w, dual=None):
            if relu and not binary:
                parts = [_certificate(X, masks, 2.0 * (labels == k) - 1.0, beta, v[:, :, k],
                                      w[:, :, k], "logistic", True,
                                      None if dual is None else dual[:, k]) for k in range(K)]
                primal = sum(p for p, _ in parts)
                return primal, sum(p * r for p, r in parts) / primal
            return _certificate(X, masks, target, beta, v, w, score_loss, relu, dual)

        if "dualnet" in libraries:
            start = time.perf_counter()
            fit = dualnet.fit_relu(X, target, beta, patterns=patterns, model=model, loss=loss,
                                   tol=1e-6, max_iter=100000 if loss == "cross_entropy" else None)
            seconds = time.perf_counter() - start
            v, w = np.asarray(fit.v), np.asarray(fit.w)
            objective, gap = certify(v, w, np.asarray(fit.dual))
            widths[model] = fit.width
            rows.append(dict(data=name, program=program, library="dualnet", seconds=seconds,
                             objective=objective, gap=gap, reported_gap=fit.relative_gap,
                             train=_accuracy(_block_outputs(X, masks, v, w), labels),
                             test=_accuracy(_test_scores(X_test, gates, v, w, relu),
                                            labels_test)))
        if "clarabel" in libraries:

            def clarabel_blocks():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if not (relu and not binary):
                        return _clarabel(X, masks, target, beta, loss, relu)
                    V = np.zeros((X.shape[1], n_patterns, K))
                    W = np.zeros_like(V)
                    for k in range(K):
                        V[:, :, k], W[:, :, k] = _clarabel(
                            X, masks, 2.0 * (labels == k) - 1.0, beta, "logistic", True)
                    return V, W

            try:
                blocks, seconds = _capped(time_cap, clarabel_blocks)
                failure = None if blocks is not None else f"stopped at the {time_cap:g} s cap"
            except RuntimeError as error:  # cvxpy's SolverError, raised in the child
                blocks, seconds, failure = None, float("nan"), f"failed: {error}"
            if blocks is None:
                rows.append(dict(data=name, program=program + f" [{failure}]",
                                 library="clarabel", seconds=seconds, objective=float("nan"),
                                 gap=float("nan"), train=float("nan"), test=float("nan")))
            else:
                V, W = blocks
                objective, gap = certify(V, W)
                rows.append(dict(data=name, program=program, library="clarabel", seconds=seconds,
                                 objective=objective, gap=gap,
                                 train=_accuracy(_block_outputs(X, masks, V, W), labels),
                                 test=_accuracy(_test_scores(X_test, gates, V, W, relu),
                                                labels_test)))
        if "scnn" in libraries:
            scores, seconds = _capped(time_cap, _scnn_scores, X, X_test, gates, target, beta,
                                      relu)
            note = "scnn: squared loss" + ("" if scores else f", stopped at the {time_cap:g} s cap")
            rows.append(dict(data=name, program=program + f" [{note}]",
                             library="scnn", seconds=seconds, objective=float("nan"),
                             gap=float("nan"),
                             train=_accuracy(scores[0], labels) if scores else float("nan"),
                             test=_accuracy(scores[1], labels_test) if scores else float("nan")))
    width = max(widths.get("relu", 0), 1)
    reference_loss = "logistic" if binary else "cross_entropy"
    target = (2.0 * labels - 1.0) if binary else np.eye(K)[labels]
    if "mlp" in libraries:
        from sklearn.neural_network import MLPClassifier

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlp = MLPClassifier((width,), alpha=beta, solver="lbfgs", max_iter=5000,
                                random_state=seed).fit(X[:, :-1], labels)
        seconds = time.perf_counter() - start
        U = np.vstack([mlp.coefs_[0], mlp.intercepts_[0]])
        a = mlp.coefs_[1][:, 0] if binary else mlp.coefs_[1]
        bias = mlp.intercepts_[1][0] if binary else mlp.intercepts_[1]
        rows.append(dict(data=name, program=f"network {reference_loss} width {width}",
                         library="MLPClassifier", seconds=seconds,
                         objective=_network_objective(X, target, beta, U, a, reference_loss,
                                                      bias),
                         gap=float("nan"), train=mlp.score(X[:, :-1], labels),
                         test=mlp.score(X_test[:, :-1], labels_test)))
    if "adam" in libraries:
        weights, seconds = _capped(time_cap, _adam, X, target, beta, width, reference_loss, seed)
    if "adam" in libraries and weights is None:
        rows.append(dict(data=name, program=f"network {reference_loss} width {width} "
                         f"[stopped at the {time_cap:g} s cap]", library="Adam (torch)",
                         seconds=seconds, objective=float("nan"), gap=float("nan"),
                         train=float("nan"), test=float("nan")))
    elif "adam" in libraries:
        U, a = weights
        rows.append(dict(data=name, program=f"network {reference_loss} width {width}",
                         library="Adam (torch)", seconds=seconds,
                         objective=_network_objective(X, target, beta, U, a, reference_loss),
                         gap=float("nan"),
                         train=_accuracy(np.maximum(X @ U, 0) @ a, labels),
                         test=_accuracy(np.maximum(X_test @ U, 0) @ a, labels_test)))
    return rows


def _test_scores(X_test, gates, V, W, relu):
    """Outputs on new data: the gated model through its gates (1[x^T g_i >= 0] x^T u_i, as scnn's
    gated model predicts), the ReLU model through the network its cone blocks map back to."""
    if relu:
        return _block_test_outputs(X_test, V, W)
    return _block_outputs(X_test, X_test @ gates >= 0, V, W)


def _block_test_outputs(X_test, V, W):
    """Outputs of the network mapped back from cone blocks (exact on the cones)."""
    from dualnet._network import map_back

    if V.ndim == 2:
        U, a = map_back(V, W)
        return np.maximum(X_test @ U, 0) @ a
    return np.column_stack([_block_test_outputs(X_test, V[:, :, k], W[:, :, k])
                            for k in range(V.shape[2])])


def render(rows):
    lines = ["| data | program | library | time (s) | objective | certified rel. gap | "
             "time vs dualnet | train acc. | test acc. |", "|" + "---|" * 9]
    base = {(r["data"], r["program"]): r for r in rows if r["library"] == "dualnet"}
    fmt = lambda x, s: "n/a" if x != x else format(x, s)  # noqa: E731
    for r in rows:
        key = (r["data"], r["program"].split(" [")[0])
        ratio = r["seconds"] / base[key]["seconds"] if key in base else float("nan")
        lines.append(f"| {r['data']} | {r['program']} | {r['library']} | {r['seconds']:.3g} | "
                     f"{fmt(r['objective'], '.8g')} | {fmt(r['gap'], '.2e')} | "
                     f"{fmt(ratio, '.3g')} | {fmt(r['train'], '.4f')} | {fmt(r['test'], '.4f')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="breast_cancer,wine,digits")
    parser.add_argument("--patterns", type=int, default=50)
    parser.add_argument("--alpha", type=float, default=1e-2)
    parser.add_argument("--libraries", default="dualnet,clarabel,scnn,mlp,adam")
    parser.add_argument("--time-cap", type=float, default=600.0,
                        help="seconds after which a Clarabel, scnn or Adam run is stopped "
                             "(reported as such); dualnet and MLPClassifier are not capped")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rows = []
    for name in args.data.split(","):
        rows += run(name, args.patterns, args.alpha, libraries=tuple(args.libraries.split(",")),
                    time_cap=args.time_cap)
        print(render([r for r in rows if r["data"] == name]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print()
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
