"""Small data sets, one per family, on which the teaching trace runs (shared by the teach tests).

Each case is ``(X, family, K)``: the family as a name with the trace's options,
or an object. The ``EXACT`` cases have an exact M-step (no pseudo-count, no
jitter), so the bound may never fall there.
"""

from __future__ import annotations

import numpy as np

from emix.families import ProductFamily, make_family


def _two_groups(rng, draw, n=30):
    return np.concatenate([draw(rng, 0, n), draw(rng, 1, n)])


def cases() -> dict[str, tuple[np.ndarray, dict]]:
    """name -> (X, trace keyword arguments); all exact-M-step unless the name says otherwise."""
    rng = np.random.default_rng(0)
    blobs = _two_groups(rng, lambda r, g, n: r.normal(2.5 * g, 1.0, (n, 2)) + [0, 1.5 * g])
    binary = _two_groups(rng, lambda r, g, n: (r.random((n, 6)) < (0.8 if g else 0.25)).astype(float))

    def levels(r, g, n):
        p = [0.5, 0.3, 0.2] if g == 0 else [0.2, 0.3, 0.5]
        return np.column_stack(
            [r.choice(3, n, p=p), r.choice(4, n, p=[0.4, 0.3, 0.2, 0.1][:: 1 if g else -1])]
        )

    codes = _two_groups(rng, levels).astype(float)
    counts = _two_groups(rng, lambda r, g, n: r.poisson(2.0 + 7.0 * g, (n, 2))).astype(float)
    durations = _two_groups(rng, lambda r, g, n: r.exponential(1.0 + 5.0 * g, (n, 2)))
    heavy = _two_groups(rng, lambda r, g, n: 5.0 * g + r.standard_t(3, (n, 2)))
    mixed = np.column_stack([blobs[:, :1], codes[:, :1], counts[:, :1]])
    product = ProductFamily(
        [
            (make_family("gaussian", covariance_type="diag", reg_covar=0.0), [0]),
            (make_family("categorical", alpha=0.0), [1]),
            (make_family("poisson", alpha=0.0), [2]),
        ]
    )
    student_part = ProductFamily(
        [
            (make_family("student", covariance_type="diag", reg_covar=0.0), [0, 1]),
            (make_family("poisson", alpha=0.0), [2]),
        ]
    )
    return {
        "gaussian-full": (blobs, dict(family="gaussian")),
        "gaussian-tied": (blobs, dict(family="gaussian", covariance_type="tied")),
        "gaussian-diag": (blobs, dict(family="gaussian", covariance_type="diag")),
        "gaussian-spherical": (blobs, dict(family="gaussian", covariance_type="spherical")),
        "gaussian-VVI": (blobs, dict(family="gaussian", covariance_type="VVI")),
        "gaussian-EEE": (blobs, dict(family="gaussian", covariance_type="EEE")),
        "bernoulli": (binary, dict(family="bernoulli", alpha=0.0)),
        "categorical": (codes, dict(family="categorical", alpha=0.0, init_params="random")),
        "poisson": (counts, dict(family="poisson", alpha=0.0)),
        "exponential": (durations, dict(family="exponential")),
        "student": (heavy, dict(family="student")),
        "student-dof-fixed": (heavy, dict(family={"family": "student", "dof": 4.0, "reg_covar": 0.0})),
        "product": (mixed, dict(family=product)),
        "product-with-student": (np.column_stack([heavy, counts[:, :1]]), dict(family=student_part)),
    }


#: cases whose M-step is not exact: the estimators' default pseudo-count
INEXACT = {
    "bernoulli-alpha": lambda c: (c["bernoulli"][0], dict(family="bernoulli")),
    "poisson-alpha": lambda c: (c["poisson"][0], dict(family="poisson", alpha=0.5)),
}
