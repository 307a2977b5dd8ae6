"""The experiments of Ergen & Pilanci, *Convex Duality of Deep Neural Networks* (2020), rerun.

Each module trains the non-convex network with full-batch gradient descent (or Adam) and weight
decay from several random starts, in numpy, and compares it with dualnet's convex or dual optimum
(docs/theory.md, section 12): ``run(out, quick, seed, plot)`` returns the rows it adds to the
results table and the figures it wrote. ``dualnet reproduce`` runs them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from . import breast_cancer, diabetes, linear, relu_closed_form, spline, vector

__all__ = ["EXPERIMENTS", "ExperimentResult", "Row", "plotting_available", "write_results"]

EXPERIMENTS = {
    "linear": linear,
    "vector": vector,
    "closed_form": relu_closed_form,
    "spline": spline,
    "diabetes": diabetes,
    "breast_cancer": breast_cancer,
}


@dataclass(frozen=True)
class Row:
    """One number of the results table, with its reference value and the check applied.

    Attributes
    ----------
    experiment : str
    quantity : str
        What was measured.
    value : float
    reference : float or None
        The value theory predicts (an optimum, a closed form), when there is one.
    check : str
        The criterion, in words (e.g. "relative difference <= 1e-6").
    passed : bool or None
        Whether ``value`` meets ``check`` (None: reported only).
    """

    experiment: str
    quantity: str
    value: float
    reference: float | None = None
    check: str = ""
    passed: bool | None = None

    def format(self) -> str:
        ref = "" if self.reference is None else f" (reference {self.reference:.10g})"
        verdict = {None: "", True: " ok", False: " MISSED"}[self.passed]
        check = f" [{self.check}{verdict}]" if self.check else ""
        return f"{self.quantity}: {self.value:.10g}{ref}{check}"


@dataclass(frozen=True)
class ExperimentResult:
    """The rows an experiment adds to the table and the figure files it wrote."""

    rows: list
    figures: list = field(default_factory=list)


def plotting_available() -> bool:
    """Whether matplotlib can be imported (figures are skipped without it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _number(value):
    return None if value is None else float(value)


def _previous(json_path, rerun):
    """Rows, figures and per-experiment times of experiments not rerun now, from an earlier
    results.json in ``out``."""
    try:
        with open(json_path) as handle:
            payload = json.load(handle)
        rows = [Row(**row) for row in payload["rows"] if row["experiment"] not in rerun]
        quick = bool(payload.get("quick"))
        timings = {name: float(value) for name, value in payload.get("timings", {}).items()
                   if name not in rerun}
        return rows, list(payload["figures"]), quick, timings
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return [], [], None, {}


def _timing_note(experiments, timings) -> str:
    """'12 s: linear 3 s, spline 9 s', naming the experiments whose time is not known."""
    known = [name for name in experiments if name in timings]
    text = f"{sum(timings[name] for name in known):.0f} s"
    if len(known) > 1:
        text += ": " + ", ".join(f"{name} {timings[name]:.0f} s" for name in known)
    elif known:
        text = f"{known[0]} {text}"
    unknown = [name for name in experiments if name not in timings]
    if unknown:
        text += f"; {', '.join(unknown)} from an earlier run"
    return text


def write_results(out, rows, figures, *, quick, seconds):
    """Write results.md and results.json to ``out``; returns both paths.

    ``seconds`` is the running time of each experiment rerun now, a dict {experiment: seconds}
    (a number is the time of them all together). Rows of other experiments already in
    ``out/results.json`` from a run of the same kind (``--quick`` or not) are kept with their
    times, so experiments can be rerun one at a time; the table lists the experiments in their
    usual order.
    """
    markdown = os.path.join(out, "results.md")
    json_path = os.path.join(out, "results.json")
    rerun = {row.experiment for row in rows}
    if isinstance(seconds, dict):
        timings = {name: float(value) for name, value in seconds.items()}
    else:
        timings = {", ".join(sorted(rerun)) or "run": float(seconds)}
    old_rows, old_figures, old_quick, old_timings = _previous(json_path, frozenset(rerun))
    order = list(EXPERIMENTS)
    if old_quick == quick:
        rows = old_rows + list(rows)
        figures = sorted(set(old_figures) | {os.path.basename(path) for path in figures})
        timings = {**old_timings, **timings}
    rows = sorted(rows, key=lambda row: order.index(row.experiment)
                  if row.experiment in order else len(order))
    experiments = list(dict.fromkeys([row.experiment for row in rows] + list(timings)))
    lines = [
        "| experiment | quantity | value | reference | check |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        ref = "" if row.reference is None else f"{row.reference:.10g}"
        verdict = {None: "", True: " (ok)", False: " (missed)"}[row.passed]
        lines.append(f"| {row.experiment} | {row.quantity} | {row.value:.10g} | {ref} | "
                     f"{row.check}{verdict} |")
    header = ("Results of `dualnet reproduce" + (" --quick" if quick else "") + "`"
              f" ({_timing_note(experiments, timings)}).\n\n")
    with open(markdown, "w") as handle:
        handle.write(header + "\n".join(lines) + "\n")
    payload = {
        "quick": quick,
        "seconds": sum(timings.values()),
        "timings": timings,
        "rows": [dict(asdict(row), value=_number(row.value), reference=_number(row.reference))
                 for row in rows],
        "figures": [os.path.basename(path) for path in figures],
    }
    with open(json_path, "w") as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    return markdown, json_path
