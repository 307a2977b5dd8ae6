"""Figure helpers: matplotlib's object API (no pyplot, so no global state is touched)."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["finish", "new_figure", "plot_gaps", "plot_objectives", "save"]


def new_figure(ncols=1, *, width=5.2, height=3.8, nrows=1):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes.ravel()


def plot_objectives(ax, traces, optimum, *, title, optimum_label, relative=True, labels=None,
                    xlabel="gradient step"):
    """Objective minus optimum over training (log scale), relative when ``relative``; or the
    objective itself with the optimum as a dashed reference line when ``relative`` is False."""
    for k, trace in enumerate(traces):
        label = labels[k] if labels is not None else (f"run {k + 1}" if k < 8 else None)
        steps, values = trace.steps[1:], trace.objectives[1:]  # step 0 has no place on a log axis
        if relative:
            ax.loglog(steps, np.maximum((values - optimum) / abs(optimum), 1e-16), lw=1.2,
                      label=label)
        else:
            ax.semilogx(steps, values, lw=1.2, label=label)
    if relative:
        ax.axhline(1e-6, color="k", ls="--", lw=1, label="1e-6 (reference)")
        ax.set_ylabel(f"(objective - {optimum_label}) / {optimum_label}")
    else:
        ax.axhline(optimum, color="k", ls="--", lw=1.2, label=f"{optimum_label} = {optimum:.6g}")
        ax.set_ylabel("training objective")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=7)


def finish(ax, xlabel, ylabel, title):
    """Axis labels, title and a small legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)


def plot_gaps(ax, series, reference, *, xlabel="step"):
    """Certified relative duality gaps of trained networks over training (log-log), with the
    gap of the convex solution as the reference line; ``series`` holds (steps, gaps, color,
    format, label or None) per network."""
    for steps, gaps, color, fmt, label in series:
        ax.loglog(steps, np.maximum(gaps, 1e-16), fmt, color=color, ms=3, lw=1, label=label)
    ax.axhline(max(reference, 1e-16), color="k", ls=":", lw=1,
               label="gap of the convex solution (reference)")
    finish(ax, xlabel, "certified relative duality gap",
           "certificate of the trained network over time")


def save(figure, out, name) -> str:
    path = os.path.join(out, name)
    figure.savefig(path, dpi=110)
    return path
