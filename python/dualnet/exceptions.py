"""Warnings raised by dualnet."""

__all__ = ["ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """A solver stopped before its certified relative duality gap reached ``tol``.

    The result is still returned: its objectives and gap are certified, only larger than asked.
    A plain ``UserWarning`` subclass, so importing dualnet needs no scikit-learn; the estimators
    emit a subclass of both this class and ``sklearn.exceptions.ConvergenceWarning``, so either
    filter catches them.
    """
