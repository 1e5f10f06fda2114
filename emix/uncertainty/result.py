"""What :func:`emix.bootstrap` returns: the replicates, their standard errors and percentile intervals."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

#: How the parameters are labelled in the table, by name: a short label and its index names.
_LABELS = {"weights": "weight", "means": "mean", "covariances": "cov"}


@dataclasses.dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap replicates of a fitted mixture, aligned with the reference fit.

    Every array is indexed like the fitted attribute it comes from, with the
    replicates first; components are in the reference fit's order (each
    replicate is matched to it, see :func:`emix.bootstrap`).

    =================  ======================  ===========================
    name               ``estimate[name]``      ``replicates[name]``
    =================  ======================  ===========================
    ``weights``        (K,)                    (B, K)
    ``means``          (K, D)                  (B, K, D)
    ``covariances``    (K, D, D), per          (B, K, D, D)
                       component (also tied)
    other families     their (K, ...) arrays   (B, K, ...)
    =================  ======================  ===========================

    Attributes
    ----------
    kind : {'nonparametric', 'parametric', 'weighted'}
    n_boot : int
        Replicates asked for.
    n_failed : int
        Replicates whose fit failed (numerical error); they are left out, so
        ``B = n_boot - n_failed``.
    conf_level : float
        Coverage of the percentile intervals.
    estimate : dict of str to ndarray
        The reference fit's parameters.
    replicates : dict of str to ndarray
    se : dict of str to ndarray
        Standard deviation of the replicates (``ddof=1``), shaped as ``estimate``.
    lower, upper : dict of str to ndarray
        The ``(1 - conf_level) / 2`` and ``(1 + conf_level) / 2`` percentiles
        of the replicates (linear interpolation, R's type 7).
    feature_names : tuple of str
        Names of the D features, for the table.

    Examples
    --------
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> result = emix.bootstrap(gm, X, n_boot=20, random_state=0, feature_names=["eruptions", "waiting"])
    >>> result.kind, result.n_replicates, result.replicates["means"].shape
    ('nonparametric', 20, (20, 2, 2))
    >>> print(result.table(digits=2))
    parameter                     estimate     se  95% lower  95% upper
    weight[0]                         0.64  0.029       0.58       0.68
    weight[1]                         0.36  0.029       0.32       0.42
    mean[0, eruptions]                 4.3  0.045        4.2        4.4
    mean[0, waiting]                    80    0.5         79         81
    mean[1, eruptions]                   2  0.021          2        2.1
    mean[1, waiting]                    54   0.52         54         56
    cov[0, eruptions, eruptions]      0.17  0.028       0.14       0.22
    cov[0, eruptions, waiting]        0.94   0.35       0.63        1.8
    cov[0, waiting, waiting]            36    4.7         29         45
    cov[1, eruptions, eruptions]     0.069  0.015      0.042      0.088
    cov[1, eruptions, waiting]        0.44   0.17       0.17       0.78
    cov[1, waiting, waiting]            34    3.7         26         39
    >>> result.rows()[0]["parameter"], round(result.rows()[0]["estimate"], 3)
    ('weight[0]', 0.644)
    """

    kind: str
    n_boot: int
    n_failed: int
    conf_level: float
    estimate: dict[str, np.ndarray]
    replicates: dict[str, np.ndarray]
    se: dict[str, np.ndarray]
    lower: dict[str, np.ndarray]
    upper: dict[str, np.ndarray]
    feature_names: tuple[str, ...]

    @classmethod
    def from_replicates(
        cls,
        kind: str,
        n_boot: int,
        conf_level: float,
        estimate: dict[str, np.ndarray],
        replicates: dict[str, np.ndarray],
        feature_names: Sequence[str],
    ) -> BootstrapResult:
        """Summarise stacked replicates (the first axis) into standard errors and intervals."""
        n_ok = len(next(iter(replicates.values())))
        lo, hi = (1.0 - conf_level) / 2.0, (1.0 + conf_level) / 2.0
        se, lower, upper = {}, {}, {}
        for name, reps in replicates.items():
            with np.errstate(invalid="ignore", divide="ignore"):
                se[name] = reps.std(axis=0, ddof=1) if n_ok > 1 else np.full(reps.shape[1:], np.nan)
            q = np.quantile(reps, [lo, hi], axis=0) if n_ok else np.full((2, *reps.shape[1:]), np.nan)
            lower[name], upper[name] = q[0], q[1]
        return cls(
            kind=kind,
            n_boot=int(n_boot),
            n_failed=int(n_boot - n_ok),
            conf_level=float(conf_level),
            estimate=estimate,
            replicates=replicates,
            se=se,
            lower=lower,
            upper=upper,
            feature_names=tuple(feature_names),
        )

    @property
    def n_replicates(self) -> int:
        """Replicates that were fitted, ``n_boot - n_failed``."""
        return self.n_boot - self.n_failed

    def rows(self) -> list[dict[str, Any]]:
        """One dict per scalar parameter: ``parameter``, ``component``, ``estimate``, ``se``,
        ``lower``, ``upper`` (components numbered from 0)."""
        out = []
        for name, est in self.estimate.items():
            for idx in itertools.product(*(range(n) for n in est.shape)):
                if name == "covariances" and idx[2] < idx[1]:
                    continue  # symmetric: the upper triangle only
                out.append(
                    {
                        "parameter": self._label(name, idx),
                        "component": int(idx[0]),
                        "estimate": float(est[idx]),
                        "se": float(self.se[name][idx]),
                        "lower": float(self.lower[name][idx]),
                        "upper": float(self.upper[name][idx]),
                    }
                )
        return out

    def _label(self, name: str, idx: tuple[int, ...]) -> str:
        parts = [str(idx[0])]
        names = self.feature_names
        for j in idx[1:]:
            parts.append(names[j] if j < len(names) else str(j))
        return f"{_LABELS.get(name, name)}[{', '.join(parts)}]"

    def table(self, digits: int = 4) -> str:
        """The standard errors and intervals as aligned text, one parameter per line.

        Parameters
        ----------
        digits : int, default=4
            Significant digits of every number.

        Returns
        -------
        str
            A header line, then one line per scalar parameter (as :meth:`rows`).
        """
        pct = f"{100 * self.conf_level:g}%"
        head = ["parameter", "estimate", "se", f"{pct} lower", f"{pct} upper"]
        body = [
            [r["parameter"], *(f"{r[c]:.{digits}g}" for c in ("estimate", "se", "lower", "upper"))]
            for r in self.rows()
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
            )
            for row in [head, *body]
        ]
        return "\n".join(lines)

    def to_frame(self):
        """The rows as a pandas DataFrame (pandas is imported here)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def __repr__(self) -> str:
        return (
            f"BootstrapResult(kind={self.kind!r}, n_boot={self.n_boot}, n_failed={self.n_failed}, "
            f"conf_level={self.conf_level:g})\n" + self.table()
        )
