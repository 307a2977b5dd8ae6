"""The ``dualnet`` command, run as a subprocess: its numbers against independent oracles, and one
clean line (no traceback) for every user mistake."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from reference.convex_programs import solve_relu

import dualnet


def dualnet_cli(*args, cwd, env=None):
    """Run ``python -m dualnet.cli ARGS`` (the console script's code) in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "dualnet.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=900)


def _objective(X, y, beta, U, a, bias):
    Xa = np.c_[X, np.ones(len(X))] if bias else X
    r = np.maximum(Xa @ U, 0) @ a - y
    return 0.5 * r @ r + 0.5 * beta * (np.sum(U * U) + a @ a)


def _write_csv(path, X, y, names=("a", "b", "target")):
    lines = [",".join(names)]
    lines += [",".join(repr(float(v)) for v in (*row, t)) for row, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def small(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((10, 2))
    y = np.maximum(X @ [1.0, -1.0], 0) + 0.1 * rng.standard_normal(10)
    _write_csv(tmp_path / "data.csv", X, y)
    return tmp_path, X, y


def test_console_script_is_declared():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("dualnet") == "dualnet.cli:console_main"


def _readme_fit_output():
    """The printed lines of ``dualnet fit`` that the README shows under its first command."""
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```text\n\$ dualnet fit\n(.+?)\n```", readme, re.S)
    assert block, "README shows no output of dualnet fit"
    return block.group(1).splitlines()


@pytest.mark.slow
def test_fit_on_the_embedded_default(tmp_path):
    # The README's first command, as written there (default tolerance 1e-6).
    done = dualnet_cli("fit", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "n = 442, d = 10" in done.stdout and "relative gap" in done.stdout
    report = json.loads((tmp_path / "dualnet-model.json").read_text())
    assert report["relative_gap"] <= 1e-6 and report["converged"]
    # --patterns auto on d = 10: the exact set is unaffordable, the set is grown by pricing
    assert report["patterns"]["method"] == "pricing" and not report["patterns"]["exact"]
    # The README shows the lines this prints: same labels, same data line, a priced set.
    printed = done.stdout.splitlines()
    printed = printed[next(i for i, line in enumerate(printed) if line.startswith("data ")):]
    shown = _readme_fit_output()
    assert [line[:17] for line in shown] == [line[:17] for line in printed]
    assert shown[0] == printed[0] and shown[1].startswith("patterns         priced: ")
    # Independent: the diabetes data standardised here, the objective from the saved weights.
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    with np.load(tmp_path / "dualnet-model.npz") as saved:
        U, a, dual = saved["first_layer"], saved["second_layer"], saved["dual"]
        assert float(saved["beta"]) == report["beta"] == 10.0
    assert U.shape == (10, report["width"])
    primal = _objective(X, y, 10.0, U, a, False)
    assert primal == pytest.approx(report["primal_objective"], rel=1e-9)
    assert y @ dual - 0.5 * dual @ dual == pytest.approx(report["dual_objective"], rel=1e-9)
    # The priced set does better than the optimum over the patterns of 1000 random gates.
    sampled = dualnet.activation_patterns(X, method="sample", n_gates=1000, random_state=0)
    assert primal < dualnet.fit_relu(X, y, 10.0, patterns=sampled).dual_objective


@pytest.mark.slow
def test_fit_a_csv_matches_the_cvxpy_optimum(small):
    tmp_path, X, y = small
    beta = 0.3
    done = dualnet_cli("fit", "data.csv", "--beta", beta, "--bias", "--patterns", "exact",
                       "--tol", "1e-9", "--out", "fit", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "fit.json").read_text())
    assert report["patterns"]["exact"] and report["bias"] and report["target"] == "target"
    assert report["relative_gap"] <= 1e-9
    masks = dualnet.activation_patterns(X, bias=True, method="exact").masks
    reference = solve_relu(np.c_[X, np.ones(10)], y, masks, beta).objective
    assert report["primal_objective"] == pytest.approx(reference, rel=1e-6)
    with np.load(tmp_path / "fit.npz") as saved:
        U, a = saved["first_layer"], saved["second_layer"]
    assert _objective(X, y, beta, U, a, True) == pytest.approx(report["primal_objective"],
                                                               rel=1e-9)
    # certify the saved network on the same data: beta read from the file, global bound
    done = dualnet_cli("certify", "fit.npz", "data.csv", "--out", "cert.json", "--quiet",
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cert = json.loads((tmp_path / "cert.json").read_text())
    assert cert["exact"] and cert["beta"] == beta
    assert cert["primal_objective"] == pytest.approx(report["primal_objective"], rel=1e-12)
    assert cert["lower_bound"] <= reference + 1e-9
    assert cert["relative_gap"] <= 1e-4


def test_fit_prices_where_the_exact_set_is_unaffordable(tmp_path):
    # n = 30, d = 8: Cover's count (about 3.3e6) is above the enumeration limit, so --patterns
    # auto grows the set by pricing, seeded here by --n-patterns random gates.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 8))
    y = np.maximum(X @ rng.standard_normal(8), 0) + 0.1 * rng.standard_normal(30)
    _write_csv(tmp_path / "wide.csv", X, y, names=[f"x{j}" for j in range(8)] + ["target"])
    done = dualnet_cli("fit", "wide.csv", "--beta", "0.5", "--n-patterns", "7", "--out", "w",
                       "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "w.json").read_text())
    assert report["patterns"]["method"] == "pricing" and report["patterns"]["rounds"] >= 1
    assert report["relative_gap"] <= 1e-6 and "priced:" in done.stdout
    with np.load(tmp_path / "w.npz") as saved:
        U, a = saved["first_layer"], saved["second_layer"]
    assert _objective(X, y, 0.5, U, a, False) == pytest.approx(report["primal_objective"],
                                                               rel=1e-9)
    # never worse than the optimum over the 7 seed gates' patterns alone (up to the gap)
    seed = dualnet.activation_patterns(X, method="sample", n_gates=7, random_state=0)
    seeded = dualnet.fit_relu(X, y, 0.5, patterns=seed).primal_objective
    assert report["primal_objective"] <= seeded * (1 + 1e-6)


def test_certify_a_random_network_bounds_the_optimum(small):
    tmp_path, X, y = small
    rng = np.random.default_rng(4)
    U, a = rng.standard_normal((2, 5)), rng.standard_normal(5)
    dualnet.interop.save_network(tmp_path / "random.npz", U, a, bias=False)
    done = dualnet_cli("certify", "random.npz", "data.csv", "--beta", "0.5", "--out", "c.json",
                       "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cert = json.loads((tmp_path / "c.json").read_text())
    masks = dualnet.activation_patterns(X, method="exact").masks
    optimum = solve_relu(X, y, masks, 0.5).objective
    assert cert["primal_objective"] == pytest.approx(_objective(X, y, 0.5, U, a, False), rel=1e-12)
    assert cert["lower_bound"] <= optimum + 1e-9 <= cert["primal_objective"] + 1e-9


@pytest.mark.slow
def test_certify_a_torch_state_dict(small):
    torch = pytest.importorskip("torch")
    tmp_path, X, y = small
    fit = dualnet.fit_relu(X, y, 0.4, bias=True, tol=1e-9)
    torch.save(fit.to_torch().state_dict(), tmp_path / "net.pt")
    done = dualnet_cli("certify", "net.pt", "data.csv", "--beta", "0.4", "--out", "c.json",
                       "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cert = json.loads((tmp_path / "c.json").read_text())
    assert cert["bias"] and cert["primal_objective"] == pytest.approx(fit.primal_objective,
                                                                      rel=1e-12)
    assert cert["lower_bound"] <= fit.primal_objective


def test_patterns_count_is_covers_formula(small):
    tmp_path, X, _ = small
    done = dualnet_cli("patterns", "data.csv", "--bias", "--out", "p", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # [X, 1] has rank 3 and its 10 rows are in general position: 2 sum_{k<3} C(9, k) = 92.
    cover = 2 * sum(math.comb(9, k) for k in range(3))
    report = json.loads((tmp_path / "p.json").read_text())
    assert report["exact_count"] == cover == report["n_patterns"] and report["exact"]
    with np.load(tmp_path / "p.npz") as saved:
        masks = saved["masks"]
    assert masks.shape == (10, cover) and len({m.tobytes() for m in masks.T}) == cover
    assert f"all {cover} activation patterns" in done.stdout


def test_sampled_patterns_report_their_coverage(small):
    tmp_path, X, _ = small
    done = dualnet_cli("patterns", "data.csv", "--patterns", "sample", "--n-patterns", "5",
                       "--out", "p", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "p.json").read_text())
    cover = 2 * sum(math.comb(9, k) for k in range(2))
    assert report["exact_count"] == cover and not report["exact"]
    assert report["coverage"] == pytest.approx(report["n_patterns"] / cover)
    assert report["n_patterns"] <= 5


def _one_error_line(done, *fragments):
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def _in_process(args, capsys):
    """dualnet.cli.main(args) as a finished process: (returncode, stdout, stderr)."""
    from dualnet.cli import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.mark.parametrize("args, fragments", [
    (("fit", "missing.csv"), ("no such file: missing.csv",)),
    (("fit", "data.csv", "--target", "nope"), ("--target 'nope'", "columns: a, b, target")),
    (("fit", "bad.csv"), ("line 3", "'b'", "'x' is not a number")),
    (("fit", "ragged.csv"), ("line 2 has 2 fields",)),
    (("fit", "noy.npz"), ("needs arrays named X and y",)),
    (("fit", "data.csv", "--beta", "abc"), ("argument --beta", "not a number")),
    (("fit", "data.csv", "--beta", "0"), ("argument --beta", "> 0")),
    (("fit", "data.csv", "--model", "tanh"), ("argument --model",)),
    (("fit", "data.csv", "--n-patterns", "-3"), ("argument --n-patterns",)),
    (("fit", "data.csv", "--out", "nodir/model"), ("no such directory: nodir",)),
    (("certify", "missing.npz", "data.csv"), ("no such file",)),
    (("certify", "data.csv", "data.csv", "--beta", "1"), ("unknown file type .csv",)),
    (("certify", "noweights.npz", "data.csv"), ("holds no network",)),
    (("patterns", "empty.csv"), ("empty",)),
    (("reproduce", "nothing", "--out", "r"), ("unknown experiment 'nothing'",)),
    (("reproduce", "linear", "--out", "data.csv"), ("exists and is not a directory",)),
    (("frobnicate",), ("invalid choice",)),
    (("fit", "data.csv", "--frobnicate"), ("unrecognized arguments: --frobnicate",)),
    (("fit", "data.csv", "--tol", "-1"), ("argument --tol", "> 0")),
    (("fit", "data.csv", "--seed", "abc"), ("argument --seed",)),
    (("fit", "data.csv", "--max-iter", "0"), ("argument --max-iter", ">= 1")),
    (("fit", "--target", "y"), ("--target needs a DATA file",)),
    (("fit", "."), ("is a directory",)),
    (("fit", "nan.csv"), ("NaN or infinite",)),
    (("fit", "binary.csv"), ("not a text CSV file",)),
    (("fit", "text.npz"), ("must be numeric",)),
    (("fit", "data.csv", "--patterns", "exact", "--n-patterns", "5"),
     ("--n-patterns applies to sampled patterns",)),
    (("fit", "data.csv", "--loss", "logistic", "--quiet"), ("-1 and +1",)),
])
def test_user_mistakes_print_one_line(small, args, fragments, capsys, monkeypatch):
    # In process (main() is what the console script runs); two of them also as subprocesses.
    tmp_path, X, y = small
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("a,b,target\n1,2,3\n4,x,6\n")
    (tmp_path / "ragged.csv").write_text("a,b,target\n1,2\n")
    (tmp_path / "empty.csv").write_text("")
    np.savez(tmp_path / "noy.npz", X=X)
    np.savez(tmp_path / "noweights.npz", X=X)
    (tmp_path / "nan.csv").write_text("a,b,target\n1,2,3\n4,nan,6\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01")
    np.savez(tmp_path / "text.npz", X=np.array([["a", "b"]]), y=np.array([1.0]))
    _one_error_line(_in_process(args, capsys), *fragments)
    if args[1:2] in (("missing.csv",), ("bad.csv",)):
        _one_error_line(dualnet_cli(*args, cwd=tmp_path), *fragments)


def test_loss_flag_reaches_fit_relu(small):
    # --loss is passed on as fit_relu(loss=...): an unknown loss is refused in one line, by
    # fit_relu where it takes loss= and by the command where it does not.
    tmp_path, _, _ = small
    _one_error_line(dualnet_cli("fit", "data.csv", "--loss", "no-such-loss", "--quiet",
                                cwd=tmp_path), "loss")


def test_certify_needs_a_beta_for_foreign_models(small):
    torch = pytest.importorskip("torch")
    tmp_path, _, _ = small
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    torch.save(module.state_dict(), tmp_path / "net.pt")
    _one_error_line(dualnet_cli("certify", "net.pt", "data.csv", cwd=tmp_path),
                    "--beta is required")


@pytest.mark.slow
def test_reproduce_quick_linear_and_spline(tmp_path):
    done = dualnet_cli("reproduce", "linear", "spline", "--quick", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    rows = {(r["experiment"], r["quantity"]): r for r in results["rows"]}
    assert all(r["passed"] is not False for r in results["rows"]), results["rows"]
    # GD reaches the dual value of the linear programs (recomputed here by the closed form)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 5)), rng.standard_normal(20)
    for depth, beta, name in ((2, 0.7, "2-layer"), (3, 0.3, "3-layer (||W_1|| <= 1)")):
        dual = rows[("linear", f"{name}: dual value D*")]
        # theory section 4 (B): min_w 1/2||Xw - y||^2 + beta ||w||, beta / t^(L-2) with t = 1
        w = dualnet.deep_linear(X, y, beta, depth=2).reduced
        closed = 0.5 * np.sum((X @ w - y) ** 2) + beta * np.linalg.norm(w)
        assert dual["value"] == pytest.approx(closed, rel=1e-9)
        gd = next(r for (e, q), r in rows.items() if q.startswith(f"{name}: worst of"))
        assert 0 <= gd["value"] + 1e-12 and gd["value"] <= 1e-6
    kinks = rows[("spline", next(q for e, q in rows if q.startswith("kinks of the optimum's")))]
    assert kinks["value"] == kinks["reference"] > 0
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "| linear |" in markdown and "| spline |" in markdown
    if dualnet.experiments.plotting_available():
        for name in results["figures"]:
            assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "linear_objective.png" in results["figures"]


def test_reproduce_without_matplotlib_gives_numbers_and_one_note(tmp_path):
    # A matplotlib package that cannot be imported, ahead of the real one on the path.
    fake = tmp_path / "blocked" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('matplotlib blocked for this test')\n")
    import os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path / "blocked")] + [p for p in sys.path if p]))
    done = dualnet_cli("reproduce", "vector", "--quick", "--out", "out", "--quiet", cwd=tmp_path,
                       env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("matplotlib is not installed") == 1
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["figures"] == [] and not list((tmp_path / "out").glob("*.png"))
    assert all(r["passed"] is not False for r in results["rows"])


def test_results_of_separate_runs_are_merged(tmp_path):
    from dualnet.experiments import Row, write_results

    write_results(tmp_path, [Row("spline", "b", 2.0, None, "", None)], [str(tmp_path / "s.png")],
                  quick=True, seconds=1.0)
    write_results(tmp_path, [Row("linear", "a", 1.0, 1.0, "check", True)], [], quick=True,
                  seconds=2.0)
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["experiment"] for r in results["rows"]] == ["linear", "spline"]
    assert results["figures"] == ["s.png"] and results["seconds"] == 3.0
    # a rerun replaces the rows of its experiment; a run of the other kind starts afresh
    write_results(tmp_path, [Row("spline", "c", 3.0)], [], quick=True, seconds=1.0)
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["quantity"] for r in rows] == ["a", "c"]
    # per-experiment times: a rerun replaces its own time only
    write_results(tmp_path, [Row("spline", "e", 5.0)], [], quick=True, seconds={"spline": 7.0})
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["timings"] == {"linear": 2.0, "spline": 7.0} and results["seconds"] == 9.0
    assert "(9 s: linear 2 s, spline 7 s)" in (tmp_path / "results.md").read_text()
    write_results(tmp_path, [Row("vector", "d", 4.0)], [], quick=False, seconds=1.0)
    assert len(json.loads((tmp_path / "results.json").read_text())["rows"]) == 1
    assert "| vector | d | 4 |" in (tmp_path / "results.md").read_text()
