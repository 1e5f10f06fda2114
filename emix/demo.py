"""``python -m emix.demo``: fit the bundled Old Faithful data and print the model."""

from __future__ import annotations

import numpy as np

from . import GaussianMixture
from .datasets import FAITHFUL_COLUMNS, load_faithful


def main() -> None:
    X = load_faithful()
    model = GaussianMixture(n_components=3, covariance_type="tied", tol=1e-10, max_iter=1000, random_state=0)
    model.fit(X)
    n, d = X.shape
    print(f"Old Faithful: {n} eruptions x {d} features ({', '.join(FAITHFUL_COLUMNS)})")
    print(
        f"GaussianMixture(n_components=3, covariance_type='tied'): {model.n_iter_} EM iterations, "
        f"converged={model.converged_}"
    )
    print(f"log-likelihood {model.log_likelihood_:.6f}  (mclust EEE, K=3: -1126.315928)")
    print(f"BIC {model.bic(X):.3f}  (scikit-learn's sign; mclust reports {-model.bic(X):.3f})")
    print()
    print(f"{'k':>2}  {'weight':>7}  {'eruptions':>10}  {'waiting':>8}")
    order = np.argsort(model.means_[:, 0])
    for k in order:
        w, (e, t) = model.weights_[k], model.means_[k]
        print(f"{k:>2}  {w:7.4f}  {e:10.4f}  {t:8.4f}")
    sd = np.sqrt(np.diag(model.covariances_))
    print(
        f"shared covariance: sd(eruptions)={sd[0]:.4f}, sd(waiting)={sd[1]:.4f}, "
        f"corr={model.covariances_[0, 1] / (sd[0] * sd[1]):.4f}"
    )


if __name__ == "__main__":
    main()
