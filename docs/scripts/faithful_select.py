"""Print the Old Faithful BIC and ICL grids shown in docs/models.md.

Run from the repository root: ``python docs/scripts/faithful_select.py``.
"""

import numpy as np

import emix

X = emix.datasets.load_faithful()
res = emix.select(X, n_components=range(1, 10))
best = res.best
sizes = np.bincount(res.best_estimator.predict(X), minlength=best.n_components)
print(f"best: {best.model}, K={best.n_components}")
print(
    f"log-likelihood {best.log_likelihood:.6f}, df {best.n_parameters}, BIC {best.bic:.3f}, ICL {best.icl:.3f}"
)
print(f"cluster sizes {sorted(sizes.tolist())}")
print("next:", "; ".join(f"{r.model},{r.n_components} ({r.bic:.3f})" for r in res.top(3)[1:]))
tight = emix.GaussianMixture(
    3, covariance_type="EEE", init_params="hierarchical", reg_covar=0.0, rtol=1e-13, max_iter=10000
).fit(X)
print(f"EEE K=3 run to rtol 1e-13: log-likelihood {tight.log_likelihood_:.6f}")
for crit in ("bic", "icl"):
    print(f"\n{crit.upper()}:\n")
    print(res.format_table(crit))
